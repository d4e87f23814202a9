import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createVerifierServer, DEFAULT_SERVER_LIMITS, type ServerLimits } from "../../../src/verifier/server.js";
import { parseResponse, rawExchange, rawRequest, type RawAnswer } from "../hostile/raw-http.js";
import { waitFor } from "../../support/wait.js";
import { serverDeps } from "./server-deps.js";

let server: Server | undefined;
const sockets: Socket[] = [];

async function start(limits: Partial<ServerLimits> = {}): Promise<number> {
  server = createVerifierServer(serverDeps({ limits: { ...DEFAULT_SERVER_LIMITS, ...limits } }));
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  return (listening.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

/** A connection that sends `bytes` and then waits; resolves with everything answered until it closes. */
function hold(port: number, bytes: string): { opened: Promise<void>; answer: Promise<RawAnswer> } {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  const chunks: Buffer[] = [];
  const opened = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => resolve(parseResponse(Buffer.concat(chunks))));
  });
  socket.write(bytes);
  return { opened, answer };
}

const healthz = rawRequest("GET /healthz HTTP/1.1", [["Host", "v"]]);

describe("the verifier server's limits", () => {
  it("answers more header lines than allowed with 431 RequestHeaderFieldsTooLarge, by default above 256", async () => {
    const port = await start();
    const many = Array.from({ length: 300 }, (_, i): [string, string] => [`x-h${i}`, "v"]);
    const answer = await rawExchange(port, rawRequest("POST /v1/forward-auth/envoy/x HTTP/1.1", [["Host", "v"], ...many]));
    expect([answer.status, answer.json?.code]).toEqual([431, "RequestHeaderFieldsTooLarge"]);
    const few = Array.from({ length: 200 }, (_, i): [string, string] => [`x-h${i}`, "v"]);
    expect((await rawExchange(port, rawRequest("GET /healthz HTTP/1.1", [["Host", "v"], ...few]))).status).toBe(200);
  });

  it("answers headers larger than allowed with 431", async () => {
    const port = await start({ maxHeaderBytes: 8 * 1024 });
    const answer = await rawExchange(port, rawRequest("GET /healthz HTTP/1.1", [["Host", "v"], ["x-big", "a".repeat(9 * 1024)]]));
    expect([answer.status, answer.json?.code]).toEqual([431, "RequestHeaderFieldsTooLarge"]);
  });

  it("answers a connection past the cap with 503 ServiceUnavailable and closes it, and serves again once one closes", async () => {
    const port = await start({ maxConnections: 2 });
    const idle = [hold(port, ""), hold(port, "")];
    await Promise.all(idle.map((connection) => connection.opened));
    const refused = await rawExchange(port, healthz);
    expect([refused.status, refused.json?.code, refused.headers["retry-after"]]).toEqual([503, "ServiceUnavailable", "1"]);
    sockets[0]?.destroy();
    // The server learns of the close a moment later; until then the cap still counts it.
    const served = await waitFor("a free connection slot", async () => ((await rawExchange(port, healthz)).status === 200 ? true : undefined), 5000);
    expect(served).toBe(true);
  });

  it("answers headers not received within the header timeout with 408 RequestTimeout", async () => {
    const port = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const answer = await hold(port, "GET /healthz HTTP/1.1\r\nHost: v\r\n").answer;
    expect([answer.status, answer.json?.code]).toEqual([408, "RequestTimeout"]);
  });

  it("answers a body not received within the request timeout with 408 RequestTimeout", async () => {
    const port = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const answer = await hold(port, "POST /v1/verify HTTP/1.1\r\nHost: v\r\nContent-Length: 100\r\n\r\n{").answer;
    expect([answer.status, answer.json?.code]).toEqual([408, "RequestTimeout"]);
  });
});
