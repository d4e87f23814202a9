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

describe("a webhook server going away", () => {
  it("keeps answering while it drains, ending each connection, and lets a review in flight finish when it closes", async () => {
    const authority = await createCertificateAuthority("webhook drain CA", 1);
    const serving = await issueCertificate(authority, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server", validityDays: 1 });
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const routes = new Map([
      [PATH, () => Promise.resolve({ allowed: true })],
      ["/slow", () => slow.then(() => ({ allowed: true }))],
    ]);
    const draining = new WebhookServer(serving, routes, pino({ level: "silent" }));
    const drainingPort = await draining.listen(0, "127.0.0.1");
    const call = (path: string): Promise<{ status: number; connection?: string }> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ request: { uid: "u", operation: "CREATE" } });
        const req = request({ host: "127.0.0.1", port: drainingPort, path, method: "POST", ca: authority.certPem, agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on("error", reject);
        req.end(body);
      });
    draining.drain();
    expect(await call(PATH)).toEqual({ status: 200, connection: "close" });
    const inFlight = call("/slow");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = draining.close();
    release();
    expect((await inFlight).status).toBe(200);
    await closed;
  });
});
