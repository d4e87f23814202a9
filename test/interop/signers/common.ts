import type { AwsOptions, Pair, SignInput } from "./types.js";

export interface UrlParts {
  readonly protocol: "http" | "https";
  /** host[:port], the value of the Host header. */
  readonly authority: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
}

const URL_SHAPE = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?$/;

/**
 * Splits a URL without `new URL()`, which would resolve `..` and re-encode the path: the
 * point of these signers is to hand the SDK the path exactly as the caller wrote it.
 */
export function splitUrl(url: string): UrlParts {
  const match = URL_SHAPE.exec(url);
  if (!match) throw new Error(`expected scheme://host[:port]/path without a query, got ${url}`);
  const [, protocol, authority, path] = match as unknown as [string, "http" | "https", string, string | undefined];
  const colon = authority.lastIndexOf(":");
  const port = colon < 0 ? undefined : Number(authority.slice(colon + 1));
  return { protocol, authority, hostname: colon < 0 ? authority : authority.slice(0, colon), port, path: path ?? "/" };
}

/** `YYYYMMDDTHHMMSSZ`, the form X-Amz-Date and X-Sdk-Date use. */
export function compactUtc(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the form of x-acs-date. */
export function isoUtcSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Query pairs as SDK request objects hold them: a repeated key becomes a list. */
export function queryObject(pairs: readonly Pair[] = []): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of pairs) {
    const seen = query[key];
    if (seen === undefined) query[key] = value;
    else query[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** Headers as the SDKs take them, a plain object: their clients never send a name twice. */
export function headerObject(pairs: readonly Pair[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw new Error(`header ${name} given twice: SDK clients join repeated values with ","`);
    seen.add(lower);
    headers[name] = value;
  }
  return headers;
}

export function bodyBytes(body: string | Buffer | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

export function awsOptions(input: SignInput): AwsOptions {
  if (!input.aws) throw new Error("AWS signers need aws.region and aws.service");
  return input.aws;
}
