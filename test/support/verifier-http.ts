import { type IncomingHttpHeaders, request } from "node:http";
import type { HeaderList, HttpRequestDescription } from "../../src/signing/request.js";

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export interface RawRequest {
  readonly method: string;
  /** Sent exactly as given: raw path and query. */
  readonly target: string;
  /** Sent exactly as given, in order, Host included. */
  readonly headers: HeaderList;
  readonly body?: Buffer;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** One HTTP request with full control of the request line and headers (fetch would rewrite both). */
export function httpSend(baseUrl: string, raw: RawRequest): Promise<HttpAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const headers = raw.headers.flat();
  const hasLength = raw.headers.some(([name]) => name.toLowerCase() === "content-length");
  if (raw.body !== undefined && !hasLength) headers.push("Content-Length", String(raw.body.length));
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: raw.method, path: raw.target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(raw.body);
  });
}

/** The JSON contract of POST /v1/verify for a request description. */
export function verifyBody(req: HttpRequestDescription, sourceIp?: string): Record<string, unknown> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of req.headers) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return {
    method: req.method,
    url: req.rawQuery === "" ? req.rawPath : `${req.rawPath}?${req.rawQuery}`,
    headers,
    ...(req.body === undefined ? {} : { body: req.body.toString("base64") }),
    ...(sourceIp === undefined ? {} : { sourceIp }),
  };
}

export function postVerify(baseUrl: string, description: unknown, extraHeaders: HeaderList = []): Promise<HttpAnswer> {
  const body = Buffer.from(JSON.stringify(description));
  const host = new URL(baseUrl).host;
  return httpSend(baseUrl, {
    method: "POST",
    target: "/v1/verify",
    headers: [["Host", host], ["Content-Type", "application/json"], ...extraHeaders],
    body,
  });
}

/** The signed request sent as the original client would, to a path the gateway's auth call uses. */
export function targetOf(req: HttpRequestDescription): string {
  return req.rawQuery === "" ? req.rawPath : `${req.rawPath}?${req.rawQuery}`;
}
