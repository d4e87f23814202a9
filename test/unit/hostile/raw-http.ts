import { connect } from "node:net";
import type { HeaderList } from "../../../src/signing/request.js";

export interface RawAnswer {
  readonly status: number;
  /** Lowercased names; a repeated header keeps its last value. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function headerMap(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The first response in what the server sent (a closed connection carries one). */
export function parseResponse(raw: Buffer): RawAnswer {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = headerMap(lines);
  const rest = end < 0 ? Buffer.alloc(0) : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
  const length = headers["content-length"] === undefined ? rest.length : Number(headers["content-length"]);
  const body = rest.subarray(0, length).toString("utf8");
  return { status, headers, body, json: parseJson(body) };
}

/**
 * Writes bytes exactly as given to the server and collects everything it answers until it closes
 * the connection (requests should say `Connection: close`). Write errors are expected when the
 * server answers early and stops reading (an oversized body), so only the answer counts.
 */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    };
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", finish);
    socket.on("error", () => socket.destroy());
    socket.on("close", finish);
    socket.end(bytes);
  });
}

/** A request head and body, each header line written byte for byte (latin1: one byte per char). */
export function rawRequest(requestLine: string, headers: ReadonlyArray<readonly [string, string]>, body: Buffer = Buffer.alloc(0)): Buffer {
  const lines = [requestLine, ...headers.map(([name, value]) => `${name}: ${value}`), "Connection: close", "", ""];
  return Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]);
}

// ---- Putting any header list and target on the wire ------------------------------------------

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node frames in a header value: tab, visible ASCII, and bytes 0x80-0xff (kept single bytes: not UTF-8). */
function isFrameable(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f);
}
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "expect", "upgrade"]);

/** Characters above 0xff travel as their UTF-8 bytes; controls that would break framing are dropped. */
export function wireValue(value: string): string {
  let out = "";
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code <= 0xff) out += isFrameable(code) ? char : "";
    else out += Buffer.from(char, "utf8").toString("latin1");
  }
  return out;
}

/** A request target Node accepts: visible ASCII only, anything else percent-encoded as UTF-8. */
export function wireTarget(target: string): string {
  return Buffer.from(target, "utf8").toString("latin1").replace(/[^\x21-\x7e]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

export function frameable(headers: HeaderList): Array<[string, string]> {
  return headers.filter(([name]) => TOKEN_CHARS.test(name) && !FRAMING.has(name.toLowerCase())).map(([name, value]): [string, string] => [name, wireValue(value)]);
}
