// The comparison server: the same routes and answers as the verifier, reading the same bodies
// and parsing them, but verifying nothing. Started with --verify, it also runs the signing core
// on each request (and nothing else of the verifier), which splits the verifier's cost into
// "signature verification" and "everything around it". Run by the benchmark as a process of its own.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type HeaderList, type HttpRequestDescription, splitRequestTarget } from "../../src/signing/request.js";
import { verifySignedRequest } from "../../src/signing/verify.js";
import { benchKeys, keyTable } from "../inprocess/fixtures.js";
import { serveChild } from "./child.js";
import { ALLOWED_BODY, GATEWAY_ANSWER_HEADERS, HTTP_KEYS } from "./requests.js";

const verifying = process.argv.includes("--verify");
const table = keyTable(benchKeys(HTTP_KEYS));
const deps = { lookup: (id: string) => table.get(id) };

/** 200 when not verifying, or when the request verifies. */
function status(request: HttpRequestDescription): number {
  return !verifying || verifySignedRequest(request, deps, new Date()).allowed ? 200 : 403;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

interface Description {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** `/v1/verify`: the JSON description parsed and its body decoded, as the verifier must, then 200. */
function describe(body: Buffer, res: ServerResponse): void {
  const description = JSON.parse(body.toString("utf8")) as Description;
  const request = {
    method: description.method,
    ...splitRequestTarget(description.url),
    headers: Object.entries(description.headers),
    body: Buffer.from(description.body ?? "", "base64"),
  };
  sendJson(res, status(request), ALLOWED_BODY);
}

const GATEWAY_ONLY = new Set(["x-original-method", "x-original-uri", "connection"]);

/** `/v1/forward-auth/nginx`: the header list read and the original request rebuilt from it, then 200. */
function forwarded(req: IncomingMessage, res: ServerResponse): void {
  const raw = req.rawHeaders;
  const headers: HeaderList = [];
  let target: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "x-original-uri") target = raw[i + 1];
    if (!GATEWAY_ONLY.has(name)) headers.push([raw[i] as string, raw[i + 1] as string]);
  }
  if (target === undefined) return sendJson(res, 400, { allowed: false });
  res.writeHead(status({ method: "GET", ...splitRequestTarget(target), headers }), { ...GATEWAY_ANSWER_HEADERS, "content-length": 0 });
  res.end();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (req.url === "/v1/verify") return describe(body, res);
  if (req.url?.startsWith("/v1/forward-auth/") === true) return forwarded(req, res);
  sendJson(res, 404, { allowed: false });
}

serveChild(
  createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 500, { allowed: false }));
  }),
);
