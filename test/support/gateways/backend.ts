import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HeaderList } from "../../../src/signing/request.js";

/** One request as the service behind a gateway received it. */
export interface Received {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly body: Buffer;
}

export interface EchoBackend {
  readonly port: number;
  /** Every request received so far, oldest first. */
  readonly received: Received[];
  stop(): Promise<void>;
}

/** The service behind the gateways: records each request and answers 200, so a test sees what got through. */
export async function startEchoBackend(): Promise<EchoBackend> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers: HeaderList = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? ""]);
      received.push({ method: req.method ?? "", target: req.url ?? "", headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "text/plain" }).end("backend");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every value of a header, by case-insensitive name. */
export function valuesOf(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}
