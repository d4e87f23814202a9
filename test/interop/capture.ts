import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { splitRequestTarget, type HeaderList } from "../../src/signing/request.js";
import type { SignedRequest } from "./signers/types.js";

function pairs(rawHeaders: readonly string[]): HeaderList {
  const list: HeaderList = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) list.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  return list;
}

async function readRequest(req: IncomingMessage): Promise<SignedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  // req.url is the request target exactly as it arrived: Node does not normalise it.
  return { method: req.method ?? "", ...splitRequestTarget(req.url ?? ""), headers: pairs(req.rawHeaders), body: Buffer.concat(chunks) };
}

/**
 * Runs `send` against a local HTTP server and returns the one request it received, as it
 * arrived on the wire. SDKs whose transport rewrites the URL (axios resolves it with the WHATWG
 * parser) are only faithfully described by what they actually send.
 */
export async function captureOne(send: (origin: string) => Promise<unknown>): Promise<SignedRequest> {
  let captured: SignedRequest | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readRequest(req).then(
      (request) => {
        captured = request;
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await send(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  if (!captured) throw new Error("the SDK sent no request");
  return captured;
}
