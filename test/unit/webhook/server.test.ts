import { request } from "node:https";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../../src/pki/pki.js";
import { WebhookServer } from "../../../src/webhook/server.js";

const PATH = "/validate";
let ca = "";
let server: WebhookServer;
let port = 0;

beforeAll(async () => {
  const authority = await createCertificateAuthority("webhook test CA", 1);
  ca = authority.certPem;
  const serving = await issueCertificate(authority, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server", validityDays: 1 });
  const routes = new Map([[PATH, () => Promise.resolve({ allowed: true })]]);
  server = new WebhookServer(serving, routes, pino({ level: "silent" }));
  port = await server.listen(0, "127.0.0.1");
});

afterAll(() => server.close());

function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: PATH, method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the admission webhook server", () => {
  it("answers a review with its verdict", async () => {
    const answer = await post(JSON.stringify({ request: { uid: "u1", operation: "CREATE" } }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ kind: "AdmissionReview", response: { uid: "u1", allowed: true } });
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const answer = await post(JSON.stringify({ request: { uid: "u2", operation: "CREATE", object: "x".repeat(1024 * 1024) } }));
    expect(answer).toEqual({ status: 413, text: JSON.stringify({ error: "body too large" }) });
  });
});
