import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { splitRequestTarget, type HeaderList, type HttpRequestDescription } from "../../../src/signing/request.js";

export const AWS4_SUITE_DIR = fileURLToPath(new URL("../../vectors/aws4/", import.meta.url));

export type Variant = "header" | "query";

export interface SuiteCase {
  readonly name: string;
  readonly files: Partial<Record<Variant, string>>;
  readonly context: SuiteContext;
}

export interface SuiteContext {
  readonly normalize: boolean;
  readonly token?: string;
}

/**
 * A request file as the suite writes it: request line, headers (a line starting with white
 * space continues the previous header as a further value), a blank line, the body. The body is
 * cut to Content-Length when there is one (some files end with a newline that is not part of it).
 */
export function parseSuiteRequest(text: string): HttpRequestDescription {
  const blank = text.indexOf("\n\n");
  const head = blank < 0 ? text : text.slice(0, blank);
  const [requestLine = "", ...headerLines] = head.split("\n");
  const method = requestLine.slice(0, requestLine.indexOf(" "));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(" "));
  const headers = parseHeaderLines(headerLines);
  const body = Buffer.from(blank < 0 ? "" : text.slice(blank + 2), "utf8");
  const length = headers.find(([name]) => name.toLowerCase() === "content-length")?.[1];
  return { method, ...splitRequestTarget(target), headers, body: length === undefined ? body : body.subarray(0, Number(length)) };
}

function parseHeaderLines(lines: readonly string[]): HeaderList {
  const headers: HeaderList = [];
  for (const line of lines) {
    const previous = headers.at(-1);
    if (/^\s/.test(line) && previous) headers.push([previous[0], line]);
    else headers.push([line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]);
  }
  return headers;
}

function readContext(dir: string, name: string): SuiteContext {
  const file = join(dir, "context.json");
  if (!existsSync(file)) return { normalize: !name.endsWith("-unnormalized") };
  const context = JSON.parse(readFileSync(file, "utf8")) as { normalize: boolean; credentials: { token?: string } };
  return { normalize: context.normalize, token: context.credentials.token };
}

export function loadSuite(): SuiteCase[] {
  return readdirSync(AWS4_SUITE_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const dir = join(AWS4_SUITE_DIR, name);
      const files: Partial<Record<Variant, string>> = {};
      const header = join(dir, "header-signed-request.txt");
      const query = join(dir, "query-signed-request.txt");
      if (existsSync(header)) files.header = readFileSync(header, "utf8");
      if (existsSync(query)) files.query = readFileSync(query, "utf8");
      return { name, files, context: readContext(dir, name) };
    });
}
