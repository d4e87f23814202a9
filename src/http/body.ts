import type { IncomingMessage } from "node:http";

/** Why there is no body: it is larger than allowed, or the client went away before sending it all. */
export type BodyProblem = "tooLarge" | "closed";

export type BodyReceiver = (body: Buffer | BodyProblem) => void;

const NO_BODY = Buffer.alloc(0);

/** What one request's reading holds; the listeners are shared by every request (no closure per request). */
interface Reading {
  readonly limit: number;
  readonly done: BodyReceiver;
  /** The first chunk; most bodies come in one, which is then kept as it is instead of copied. */
  first: Buffer | undefined;
  rest: Buffer[] | undefined;
  size: number;
  settled: boolean;
}

const READING = Symbol("keygate.bodyReading");
type Reader = IncomingMessage & { [READING]?: Reading };

function settle(reading: Reading, value: Buffer | BodyProblem): void {
  if (reading.settled) return;
  reading.settled = true;
  reading.first = undefined;
  reading.rest = undefined;
  reading.done(value);
}

function onData(this: Reader, chunk: Buffer): void {
  const reading = this[READING];
  if (reading === undefined || reading.settled) return;
  reading.size += chunk.length;
  if (reading.size > reading.limit) return settle(reading, "tooLarge");
  if (reading.first === undefined) reading.first = chunk;
  else (reading.rest ??= []).push(chunk);
}

function whole(reading: Reading): Buffer {
  const { first, rest, size } = reading;
  if (first === undefined) return NO_BODY;
  // The parser hands each chunk over as a buffer of its own (a copy), so keeping one is safe.
  return rest === undefined ? first : Buffer.concat([first, ...rest], size);
}

function onEnd(this: Reader): void {
  const reading = this[READING];
  if (reading !== undefined) settle(reading, whole(reading));
}

function onClosed(this: Reader): void {
  const reading = this[READING];
  if (reading !== undefined) settle(reading, "closed");
}

/**
 * The whole request body, up to `limit` bytes, handed to `done` exactly once. A declared length
 * over the limit is refused before anything is read (synchronously, as is a request without a
 * body); an oversized body stops being kept at the limit, and the caller answers and closes the
 * connection rather than reading the rest.
 */
export function receiveRequestBody(req: IncomingMessage, limit: number, done: BodyReceiver): void {
  const length = req.headers["content-length"];
  // HTTP/1.1 frames a body by Content-Length or Transfer-Encoding only (RFC 9112, 6.3): without
  // either there is none, and the GET a gateway sends when it forwards no body need not wait for one.
  if ((length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined) return done(NO_BODY);
  if (Number(length) > limit) return done("tooLarge");
  (req as Reader)[READING] = { limit, done, first: undefined, rest: undefined, size: 0, settled: false };
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", onClosed);
  req.on("close", onClosed);
}

/** The same as a promise. */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer | BodyProblem> {
  return new Promise((resolve) => receiveRequestBody(req, limit, resolve));
}
