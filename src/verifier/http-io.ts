import type { IncomingMessage, ServerResponse } from "node:http";
import { readRequestBody, receiveRequestBody } from "../http/body.js";
import type { HeaderList } from "../signing/request.js";
import { apiError, type ApiError } from "./errors.js";

/** Node's rawHeaders (name, value, name, value, …): arrival order, repeats and spelling kept. */
export function headerList(raw: readonly string[]): HeaderList {
  const headers: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string]);
  return headers;
}

export function forwardedFor(req: IncomingMessage): string[] {
  // Node joins repeated X-Forwarded-For headers with ", ", which is what the list means anyway.
  const value = req.headers["x-forwarded-for"];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function tooLarge(limit: number): ApiError {
  return apiError("EntityTooLarge", `the request body is larger than ${limit} bytes`);
}

/** The whole body, up to `limit` bytes, or the verifier's error for one too large; undefined when the client went away. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | ApiError | undefined> {
  const body = await readRequestBody(req, limit);
  if (body === "tooLarge") return tooLarge(limit);
  return body === "closed" ? undefined : body;
}

/** The same, handed to `done` (at once when there is no body to wait for). */
export function receiveBody(req: IncomingMessage, limit: number, done: (body: Buffer | ApiError | undefined) => void): void {
  receiveRequestBody(req, limit, (body) => done(body === "tooLarge" ? tooLarge(limit) : body === "closed" ? undefined : body));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** JSON already serialised, with no other header. */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** An answer that stops reading the request: what is left of an oversized body is not worth receiving. */
export function sendAndClose(res: ServerResponse, status: number, body: unknown): void {
  res.shouldKeepAlive = false;
  sendJson(res, status, body, { connection: "close" });
}
