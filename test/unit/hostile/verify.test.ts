import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DENIAL_STATUS } from "../../../src/signing/errors.js";
import type { HeaderList, HttpRequestDescription } from "../../../src/signing/request.js";
import { verifySignedRequest, type DenialCode, type VerifyResult } from "../../../src/signing/verify.js";
import { KEY_ID, SECRET } from "../verifier/fake-keys.js";
import { genuineRequests, HOSTILE_SEED, hostileAuthorization, hostileBody, hostileDate, hostileMethod, hostilePath, hostileRequest, nasty, SESSION_TOKEN } from "./arbitraries.js";

// Property-based: verifySignedRequest answers every input, however malformed, with a denial
// that carries a known code and its status, and never throws. Seeded (HOSTILE_SEED) so that a
// failure reproduces; fast-check prints the seed and the shrunk counterexample.
const NOW = new Date("2024-05-01T10:00:00Z");
const RUNS = 300;
const PARAMS = { seed: HOSTILE_SEED, numRuns: RUNS };

function verify(req: HttpRequestDescription): VerifyResult<{ secret: string }> {
  return verifySignedRequest(req, { lookup: (id) => (id === KEY_ID ? { secret: SECRET } : undefined) }, NOW);
}

const SIGNATURE_HEX = /[0-9a-f]{64}/i;

/** A denial as the verifier promises it: a known code, that code's status, a short message without secrets. */
function expectWellFormedDenial(result: VerifyResult<unknown>, codes?: readonly DenialCode[]): void {
  expect(result.allowed).toBe(false);
  if (result.allowed) return;
  expect(Object.keys(DENIAL_STATUS)).toContain(result.code);
  if (codes) expect(codes).toContain(result.code);
  expect(result.httpStatus).toBe(DENIAL_STATUS[result.code]);
  expect(typeof result.message).toBe("string");
  expect(result.message.length).toBeLessThan(400);
  expect(result.message).not.toContain(SECRET);
  expect(result.message).not.toContain(SESSION_TOKEN);
  expect(result.message).not.toMatch(SIGNATURE_HEX);
}

const GENUINE = genuineRequests(NOW);
const NAMES = Object.keys(GENUINE);

function genuine(name: string): HttpRequestDescription {
  const req = GENUINE[name];
  if (!req) throw new Error(`no genuine request ${name}`);
  return req;
}

function isPresigned(req: HttpRequestDescription): boolean {
  return !req.headers.some(([name]) => name.toLowerCase() === "authorization");
}

function replaceHeader(req: HttpRequestDescription, name: string, value: string): HttpRequestDescription {
  return { ...req, headers: req.headers.map(([n, v]): [string, string] => [n, n.toLowerCase() === name ? value : v]) };
}

function dateHeaderOf(req: HttpRequestDescription): string {
  const name = req.headers.map(([n]) => n.toLowerCase()).find((n) => n === "x-amz-date" || n === "x-acs-date" || n === "x-sdk-date");
  if (!name) throw new Error("no date header");
  return name;
}

describe("verifySignedRequest on hostile input", () => {
  it.each(NAMES)("allows the genuine %s request the hostile ones are made from", (name) => {
    expect(verify(genuine(name))).toMatchObject({ allowed: true });
  });

  it("denies requests made only of hostile parts (all three schemes' Authorization forms, several at once) with a known code", () => {
    fc.assert(
      fc.property(hostileRequest, (req) => expectWellFormedDenial(verify(req))),
      PARAMS,
    );
  });

  it("denies a description whose fields have any type at all, without throwing", () => {
    const field = fc.oneof(fc.anything(), fc.array(fc.anything()), fc.array(fc.array(fc.anything())));
    const description = fc.record({ method: field, rawPath: field, rawQuery: field, headers: field, body: field }, { requiredKeys: [] });
    fc.assert(
      fc.property(description, (req) => expectWellFormedDenial(verify(req as unknown as HttpRequestDescription))),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: a malformed Authorization header instead of the genuine one is denied", (name) => {
    const req = genuine(name);
    const presigned = isPresigned(req);
    fc.assert(
      fc.property(hostileAuthorization, (auth) => {
        const hostile = presigned ? { ...req, headers: [...req.headers, ["Authorization", auth] as [string, string]] } : replaceHeader(req, "authorization", auth);
        // A presigned request that also has an Authorization header has two auth mechanisms.
        expectWellFormedDenial(verify(hostile), presigned ? ["InvalidArgument"] : undefined);
      }),
      PARAMS,
    );
  });

  it.each(NAMES.filter((name) => !isPresigned(genuine(name))))("%s: a second Authorization header, even a copy, is InvalidArgument", (name) => {
    const req = genuine(name);
    const [, auth] = req.headers.find(([n]) => n.toLowerCase() === "authorization") ?? ["", ""];
    fc.assert(
      fc.property(fc.oneof(fc.constant(auth), hostileAuthorization), fc.boolean(), (second, first) => {
        const extra: [string, string] = ["authorization", second];
        const headers: HeaderList = first ? [extra, ...req.headers] : [...req.headers, extra];
        expectWellFormedDenial(verify({ ...req, headers }), ["InvalidArgument"]);
      }),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: an invalid or different date is denied as malformed, skewed, expired or not matching", (name) => {
    const req = genuine(name);
    const presigned = isPresigned(req);
    const original = presigned ? "" : (req.headers.find(([n]) => n.toLowerCase() === dateHeaderOf(req))?.[1] ?? "");
    const codes: DenialCode[] = ["AuthorizationHeaderMalformed", "AuthorizationQueryParametersError", "RequestTimeTooSkewed", "AccessDenied", "SignatureDoesNotMatch", "InvalidArgument"];
    fc.assert(
      fc.property(
        hostileDate.filter((date) => date !== original && !date.startsWith("20240501T100000Z&")),
        (date) => {
          const hostile = presigned ? { ...req, rawQuery: req.rawQuery.replace(/X-Amz-Date=[^&]*/, `X-Amz-Date=${encodeURIComponent(date.replace(/[\ud800-\udfff]/g, ""))}`) } : replaceHeader(req, dateHeaderOf(req), date);
          if (hostile.rawQuery === req.rawQuery && presigned) return;
          expectWellFormedDenial(verify(hostile), codes);
        },
      ),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: CR, LF or NUL in any header value is InvalidArgument", (name) => {
    const req = genuine(name);
    fc.assert(
      fc.property(fc.nat(req.headers.length - 1), nasty(6), fc.constantFrom("\r", "\n", "\0", "\r\n"), (index, text, control) => {
        const headers = req.headers.map(([n, v], i): [string, string] => [n, i === index ? `${v}${text}${control}` : v]);
        expectWellFormedDenial(verify({ ...req, headers }), ["InvalidArgument"]);
      }),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: headers over 64 KiB in total or more than 200 of them are RequestHeaderSectionTooLarge", (name) => {
    const req = genuine(name);
    const huge = fc.integer({ min: 64 * 1024, max: 200_000 }).map((size): HeaderList => [["x-padding", "a".repeat(size)]]);
    const many = fc.integer({ min: 201, max: 400 }).map((count): HeaderList => Array.from({ length: count }, (_, i) => [`x-h${i}`, "v"]));
    fc.assert(
      fc.property(fc.oneof(huge, many), (extra) => expectWellFormedDenial(verify({ ...req, headers: [...req.headers, ...extra] }), ["RequestHeaderSectionTooLarge"])),
      { ...PARAMS, numRuns: 40 },
    );
  });

  it.each(NAMES)("%s: invalid percent-encoding anywhere in the query is InvalidArgument", (name) => {
    const req = genuine(name);
    const bad = fc.constantFrom("%", "%G1", "%zz", "%2", "%%", "%u00e9", "abc%");
    fc.assert(
      fc.property(bad, fc.boolean(), (broken, inKey) => {
        const part = inKey ? `k${broken}=v` : `k=v${broken}`;
        expectWellFormedDenial(verify({ ...req, rawQuery: `${part}&${req.rawQuery}` }), ["InvalidArgument"]);
      }),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: a hostile path, method or body instead of the signed one is denied", (name) => {
    const req = genuine(name);
    const edit = fc.oneof(
      hostilePath.filter((p) => p !== req.rawPath).map((rawPath) => ({ ...req, rawPath })),
      hostileMethod.filter((m) => m !== req.method).map((method) => ({ ...req, method })),
      // Presigned non-S3 requests hash the body when there is one: any non-empty body differs from the empty one signed.
      hostileBody.filter((b) => b !== undefined && b.length > 0 && !b.equals(req.body ?? Buffer.alloc(0))).map((body) => ({ ...req, body })),
    );
    fc.assert(
      fc.property(edit, (hostile) => expectWellFormedDenial(verify(hostile), ["InvalidArgument", "SignatureDoesNotMatch"])),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: an unsigned security header, in any of the three clouds' families, is AccessDenied", (name) => {
    const req = genuine(name);
    const header = fc.tuple(fc.constantFrom("x-amz-", "X-Amz-", "x-acs-", "x-sdk-"), fc.stringMatching(/^[a-z0-9-]{1,12}$/), nasty()).map(([prefix, rest, value]): [string, string] => [`${prefix}hostile-${rest}`, value.replace(/[\r\n\0]/g, "")]);
    const token = fc.constantFrom("x-amz-security-token", "x-acs-security-token", "x-security-token").map((n): [string, string] => [n, SESSION_TOKEN]);
    const withToken = req.headers.some(([n]) => n.toLowerCase() === "x-amz-security-token");
    fc.assert(
      fc.property(withToken ? header : fc.oneof(header, token), (extra) => expectWellFormedDenial(verify({ ...req, headers: [...req.headers, extra] }), ["AccessDenied"])),
      PARAMS,
    );
  });

  it.each(NAMES)("%s: a signed header given twice (the same value again) no longer matches", (name) => {
    const req = genuine(name);
    const [host] = req.headers.filter(([n]) => n.toLowerCase() === "host");
    if (!host) throw new Error("no Host header");
    expectWellFormedDenial(verify({ ...req, headers: [...req.headers, host] }), ["SignatureDoesNotMatch"]);
  });
});
