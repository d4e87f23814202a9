import { expect, it } from "vitest";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { verifySignedRequest, type DenialCode, type VerifyResult } from "../../../src/signing/verify.js";
import { signAllWith, type SignedRequest, type SignerName, type SignInput } from "../../interop/signers/index.js";

export const ACCESS_KEY_ID = "AKIDINTEROP";
export const SECRET = "interop/secret+with=chars";
export const WRONG_SECRET = "interop/secret+with=charz";
export const NOW = new Date("2024-05-01T10:00:00Z");

/** A table row: the request without credentials and time, which every row shares. */
export interface Case {
  readonly name: string;
  readonly request: Omit<SignInput, "accessKeyId" | "secret" | "time">;
}

export function inputOf(row: Case): SignInput {
  return { accessKeyId: ACCESS_KEY_ID, secret: SECRET, time: NOW, ...row.request };
}

/** Signs a whole table with one signer, keyed by row name. */
export async function signTable(signer: SignerName, rows: readonly Case[]): Promise<Map<string, SignedRequest>> {
  const signed = await signAllWith(signer, rows.map(inputOf));
  return new Map(rows.map((row, i) => [row.name, signed[i] as SignedRequest]));
}

export function verify(req: HttpRequestDescription, secret = SECRET): VerifyResult<{ secret: string }> {
  return verifySignedRequest(req, { lookup: (id) => (id === ACCESS_KEY_ID ? { secret } : undefined) }, NOW);
}

export function expectDenied(result: VerifyResult<unknown>, code: DenialCode): void {
  expect(result).toMatchObject({ allowed: false, code });
}

export function tamperPath(req: HttpRequestDescription): HttpRequestDescription {
  return { ...req, rawPath: `${req.rawPath}x` };
}

export function tamperQuery(req: HttpRequestDescription): HttpRequestDescription {
  return { ...req, rawQuery: req.rawQuery === "" ? "tampered=1" : `${req.rawQuery}&tampered=1` };
}

/** Replaces the value of a header every signer signs. */
export function tamperHeader(req: HttpRequestDescription, name: string): HttpRequestDescription {
  const lower = name.toLowerCase();
  if (!req.headers.some(([n]) => n.toLowerCase() === lower)) throw new Error(`no ${name} header to tamper with`);
  return { ...req, headers: req.headers.map(([n, v]): [string, string] => [n, n.toLowerCase() === lower ? `${v}x` : v]) };
}

export function tamperBody(req: HttpRequestDescription): HttpRequestDescription {
  return { ...req, body: Buffer.concat([req.body ?? Buffer.alloc(0), Buffer.from("!")]) };
}

export function headerValue(req: HttpRequestDescription, name: string): string | undefined {
  return req.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export function signedRow(table: Map<string, SignedRequest> | undefined, name: string): SignedRequest {
  const req = table?.get(name);
  if (!req) throw new Error(`row ${name} was not signed`);
  return req;
}

/**
 * What every signer's genuine requests must show when one signed part changes: a wrong secret,
 * path, query or Host header is SignatureDoesNotMatch.
 */
export function itDeniesTampering(names: readonly string[], signed: (name: string) => HttpRequestDescription): void {
  it.each(names)("%s: with the wrong secret is SignatureDoesNotMatch", (name) => {
    expectDenied(verify(signed(name), WRONG_SECRET), "SignatureDoesNotMatch");
  });

  it.each(names)("%s: a tampered path is denied", (name) => {
    expectDenied(verify(tamperPath(signed(name))), "SignatureDoesNotMatch");
  });

  it.each(names)("%s: a tampered query is denied", (name) => {
    expectDenied(verify(tamperQuery(signed(name))), "SignatureDoesNotMatch");
  });

  it.each(names)("%s: a tampered Host header is denied", (name) => {
    expectDenied(verify(tamperHeader(signed(name), "host")), "SignatureDoesNotMatch");
  });
}
