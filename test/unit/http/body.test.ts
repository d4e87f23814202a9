import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type BodyProblem, readRequestBody } from "../../../src/http/body.js";

const LIMIT = 16;

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function readAndAnswer(req: IncomingMessage, res: ServerResponse): Promise<Buffer | BodyProblem> {
  const body = await readRequestBody(req, LIMIT);
  res.shouldKeepAlive = false;
  res.end();
  return body;
}

/** Starts a server that reads the body of the request it receives; `body` is what it read. */
async function readerServer(): Promise<{ port: number; body: Promise<Buffer | BodyProblem> }> {
  let received: (body: Promise<Buffer | BodyProblem>) => void = () => undefined;
  const body = new Promise<Buffer | BodyProblem>((resolve) => (received = resolve));
  server = createServer((req, res) => received(readAndAnswer(req, res)));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, body };
}

function send(port: number, chunks: readonly string[], headers: Record<string, string> = {}, abort = false): void {
  const req = request({ host: "127.0.0.1", port, method: "POST", headers });
  req.on("error", () => undefined);
  req.on("response", (res) => res.resume());
  for (const chunk of chunks) req.write(chunk);
  if (abort) setTimeout(() => req.destroy(), 50);
  else req.end();
}

describe("reading a request body", () => {
  it("returns the whole body, in order, when it is within the limit", async () => {
    const { port, body } = await readerServer();
    send(port, ["0123456789", "abcdef"]);
    expect((await body).toString()).toBe("0123456789abcdef");
  });

  it("answers an empty body for a request with neither Content-Length nor Transfer-Encoding", async () => {
    const { port, body } = await readerServer();
    const req = request({ host: "127.0.0.1", port, method: "GET" });
    req.on("error", () => undefined);
    req.flushHeaders();
    const read = await body;
    req.destroy();
    expect(read).toEqual(Buffer.alloc(0));
  });

  it("refuses a declared length over the limit before reading anything", async () => {
    const { port, body } = await readerServer();
    send(port, ["x".repeat(LIMIT + 1)], { "content-length": String(LIMIT + 1) });
    expect(await body).toBe("tooLarge");
  });

  it("refuses a chunked body once it grows past the limit", async () => {
    const { port, body } = await readerServer();
    send(port, ["x".repeat(LIMIT), "y"]);
    expect(await body).toBe("tooLarge");
  });

  it("says the client went away when the connection closes before the body ends", async () => {
    const { port, body } = await readerServer();
    send(port, ["partial"], {}, true);
    expect(await body).toBe("closed");
  });
});
