import type { IncomingMessage } from "node:http";

/** Why there is no body: it is larger than allowed, or the client went away before sending it all. */
export type BodyProblem = "tooLarge" | "closed";

const NO_BODY = Buffer.alloc(0);

/**
 * The whole request body, up to `limit` bytes. A declared length over the limit is refused before
 * anything is read; an oversized body stops being kept at the limit, and the caller answers and
 * closes the connection rather than reading the rest.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer | BodyProblem> {
  const length = req.headers["content-length"];
  // HTTP/1.1 frames a body by Content-Length or Transfer-Encoding only (RFC 9112, 6.3): without
  // either there is none, and the GET a gateway sends when it forwards no body need not wait for one.
  if ((length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined) return Promise.resolve(NO_BODY);
  if (Number(length) > limit) return Promise.resolve("tooLarge");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: Buffer | BodyProblem): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle("tooLarge");
      else chunks.push(chunk);
    });
    req.on("end", () => settle(Buffer.concat(chunks, size)));
    req.on("error", () => settle("closed"));
    req.on("close", () => settle("closed"));
  });
}
