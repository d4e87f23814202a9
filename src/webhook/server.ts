import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { readRequestBody } from "../http/body.js";
import { type AdmissionRequest, type AdmissionVerdict } from "../runtime/admission.js";

// An AdmissionReview carries two copies of one small object; anything much larger is hostile.
const MAX_BODY_BYTES = 1024 * 1024;

export type Admit = (request: AdmissionRequest) => Promise<AdmissionVerdict>;

/** Admission handlers by URL path. */
export type AdmitRoutes = ReadonlyMap<string, Admit>;

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function reviewResponse(uid: string, verdict: AdmissionVerdict): unknown {
  const status = verdict.allowed ? undefined : { code: 403, reason: "Forbidden", message: verdict.message ?? "denied" };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: {
      uid,
      allowed: verdict.allowed,
      status,
      warnings: verdict.warnings,
      ...(verdict.allowed && verdict.patch && verdict.patch.length > 0
        ? { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(verdict.patch)).toString("base64") }
        : {}),
    },
  };
}

function admissionRequest(body: Buffer): AdmissionRequest | undefined {
  try {
    const review = JSON.parse(body.toString("utf8")) as { request?: AdmissionRequest };
    return typeof review.request?.uid === "string" ? review.request : undefined;
  } catch {
    return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: AdmitRoutes, log: Logger): Promise<void> {
  // The API server appends ?timeout=…; only the path selects the handler.
  const admit = routes.get((req.url ?? "").split("?")[0] ?? "");
  if (req.method !== "POST" || !admit) {
    send(res, 404, { error: "not found" });
    return;
  }
  const body = await readRequestBody(req, MAX_BODY_BYTES);
  if (body === "closed") return;
  if (body === "tooLarge") {
    // What is left of an oversized review is not worth receiving.
    res.shouldKeepAlive = false;
    send(res, 413, { error: "body too large" });
    return;
  }
  const request = admissionRequest(body);
  if (!request) {
    send(res, 400, { error: "body must be an admission.k8s.io/v1 AdmissionReview with a request" });
    return;
  }
  const verdict = await admit(request);
  log.info(
    { operation: request.operation, namespace: request.namespace, name: request.name, allowed: verdict.allowed },
    "admission review",
  );
  send(res, 200, reviewResponse(request.uid, verdict));
}

// How long a closing server waits for reviews in flight before it cuts their connections.
const CLOSE_GRACE_MS = 5000;

/** The admission endpoints, over TLS; the certificate can be swapped while serving. */
export class WebhookServer {
  private readonly server: Server;
  private draining = false;

  constructor(certificate: ServingCertificate, routes: AdmitRoutes, log: Logger) {
    this.server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
      // The API server keeps connections to a replica open; while this one drains, every answer
      // tells it to reconnect, which reaches a replica that stays.
      if (this.draining) res.shouldKeepAlive = false;
      handle(req, res, routes, log).catch((error: unknown) => {
        log.warn({ err: String(error) }, "admission review failed");
        if (!res.headersSent) send(res, 500, { error: "internal error" });
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      });
    });
  }

  /** Renewal: new connections get the new certificate, nothing restarts. */
  rotate(certificate: ServingCertificate): void {
    this.server.setSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
  }

  /** Keeps answering, but ends each connection after its answer and drops the idle ones. */
  drain(): void {
    this.draining = true;
    this.server.closeIdleConnections();
  }

  /**
   * Stops accepting connections and lets the reviews in flight finish (for a while): a review
   * cut off is a refused create for someone, since the webhook fails closed.
   */
  close(): Promise<void> {
    this.drain();
    return new Promise((resolve) => {
      const cutOff = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
      cutOff.unref();
      this.server.close(() => {
        clearTimeout(cutOff);
        resolve();
      });
    });
  }
}
