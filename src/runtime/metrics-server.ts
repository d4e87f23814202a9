import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Serves a registry on GET /metrics and nothing else, plain HTTP, as controller-runtime's
 * metrics endpoint does when not told to serve TLS.
 */
export class MetricsServer {
  private readonly server: Server;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log.error({ error: error instanceof Error ? error.message : String(error) }, "metrics collection failed");
        if (res.headersSent) res.destroy();
        else sendText(res, 500, "metrics collection failed\n");
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== "/metrics") return sendText(res, 404, "not found\n");
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "use GET\n", { allow: "GET, HEAD" });
    const text = await this.registry.metrics();
    res.writeHead(200, { "content-type": this.registry.contentType, "content-length": Buffer.byteLength(text) });
    // Node sends no body in answer to HEAD.
    res.end(text);
  }

  /** Resolves to the port listened on (the one chosen by the system when `port` is 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and drops open connections: a scrape in flight is lost, the next one goes elsewhere. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
