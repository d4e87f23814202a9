import type { IncomingMessage } from "node:http";

/** Why there is no body: it is larger than allowed, or the client went away before sending it all. */
export type BodyProblem = "tooLarge" | "closed";

/**
 * The whole request body, up to `limit` bytes. A declared length over the limit is refused before
 * anything is read; an oversized body stops being kept at the limit, and the caller answers and
 * closes the connection rather than reading the rest.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer | BodyProblem> {
  if (Number(req.headers["content-length"]) > limit) return Promise.resolve("tooLarge");
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
