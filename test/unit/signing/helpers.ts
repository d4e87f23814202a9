import type { HeaderList, HttpRequestDescription } from "../../../src/signing/request.js";
import { verifySignedRequest, type VerifyResult } from "../../../src/signing/verify.js";

export interface TestKey {
  readonly secret: string;
  readonly owner: string;
}

/** Deps over a fixed key table. */
export function depsFor(keys: Record<string, string>) {
  return {
    lookup: (accessKeyId: string): TestKey | undefined => {
      const secret = Object.hasOwn(keys, accessKeyId) ? keys[accessKeyId] : undefined;
      return secret === undefined ? undefined : { secret, owner: `owner-of-${accessKeyId}` };
    },
  };
}

export function verifyWith(keys: Record<string, string>, req: HttpRequestDescription, now: Date): VerifyResult<TestKey> {
  return verifySignedRequest(req, depsFor(keys), now);
}

export function headers(...pairs: Array<[string, string]>): HeaderList {
  return pairs;
}

export function withHeaders(req: HttpRequestDescription, ...extra: Array<[string, string]>): HttpRequestDescription {
  return { ...req, headers: [...req.headers, ...extra] };
}

export function withoutHeader(req: HttpRequestDescription, name: string): HttpRequestDescription {
  return { ...req, headers: req.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()) };
}

/** Replaces every value of a header (case-insensitive name). */
export function setHeader(req: HttpRequestDescription, name: string, value: string): HttpRequestDescription {
  return { ...req, headers: req.headers.map(([n, v]): [string, string] => [n, n.toLowerCase() === name.toLowerCase() ? value : v]) };
}

export function headerOf(req: HttpRequestDescription, name: string): string {
  const found = req.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`no ${name} header`);
  return found[1];
}

export function minutes(at: Date, count: number): Date {
  return new Date(at.getTime() + count * 60_000);
}
