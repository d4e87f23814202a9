import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { DenialCode } from "../../../src/signing/errors.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { verifySignedRequest } from "../../../src/signing/verify.js";
import { AWS4_SUITE_DIR, loadSuite, parseSuiteRequest, type Variant } from "./suite-files.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_TIME = new Date("2015-08-30T12:36:00Z");

const NOT_NORMALISED =
  "signed with normalize=false for service 'service'; SIGNING.md normalises the path of every non-S3 service, as AWS does, so the canonical URI differs and the signature must not match";
const SIGNS_ABSENT_HEADER = "the query form signs x-amz-content-sha256 but the stored request does not carry that header, so the signed headers cannot be reproduced";

/** Cases whose outcome under SIGNING.md's rules is a denial, and why. Every other case must verify. */
const SPECIAL: Record<string, { readonly header?: DenialCode; readonly query?: DenialCode; readonly reason: string }> = {
  "get-relative-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-relative-relative-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-slash-dot-slash-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-slash-pointless-dot-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-slash-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-slashes-unnormalized": { header: "SignatureDoesNotMatch", query: "SignatureDoesNotMatch", reason: NOT_NORMALISED },
  "get-space-unnormalized": {
    header: "AccessDenied",
    query: "AuthorizationQueryParametersError",
    reason:
      "the stored (older) files carry an unsigned x-amz-content-sha256 header (header form) and no X-Amz-Expires (query form), both denials under SIGNING.md; the header signature equals get-space-normalized's, which verifies",
  },
  "get-vanilla-with-session-token": {
    query: "AuthorizationQueryParametersError",
    reason:
      "the stored query form repeats X-Amz-Security-Token after X-Amz-Signature (the signature covers one copy: without the extra one it verifies); a repeated auth parameter is ambiguous and refused",
  },
  "post-sts-header-after": { header: "AccessDenied", reason: "x-amz-content-sha256 is added after signing: present but not signed, which SIGNING.md denies" },
  "post-vanilla-query": { query: "AuthorizationQueryParametersError", reason: "the stored query form has no X-Amz-Expires, which SIGNING.md requires of presigned requests" },
  "post-x-www-form-urlencoded": { query: "SignatureDoesNotMatch", reason: SIGNS_ABSENT_HEADER },
  "post-x-www-form-urlencoded-parameters": { query: "SignatureDoesNotMatch", reason: SIGNS_ABSENT_HEADER },
};

const ABSENT: Record<string, string> = {
  "get-vanilla": "no signed request in the stored snapshot; its header form is SIGNING.md's first SigV4 vector (vectors.test.ts)",
  "post-header-key-case": "no signed request in the stored snapshot",
};

const UNSIGNED_DATE_NOTE =
  "query forms: the suite also sends the X-Amz-Date header it used for the header form, unsigned; it duplicates the signed X-Amz-Date parameter, so each query case is verified without it, and with it it must be denied (AccessDenied: x-amz-* present but not signed)";

function verify(req: HttpRequestDescription) {
  const deps = { lookup: (id: string) => (id === "AKIDEXAMPLE" ? { secret: SECRET } : undefined) };
  return verifySignedRequest(req, deps, SUITE_TIME);
}

/** Drops an X-Amz-Date header that a presigned request carries outside its signed headers. */
function withoutUnsignedDateHeader(req: HttpRequestDescription): HttpRequestDescription | undefined {
  const signed = /(?:^|&)X-Amz-SignedHeaders=([^&]*)/.exec(req.rawQuery)?.[1] ?? "";
  const hasDate = req.headers.some(([name]) => name.toLowerCase() === "x-amz-date");
  if (!hasDate || decodeURIComponent(signed).split(";").includes("x-amz-date")) return undefined;
  return { ...req, headers: req.headers.filter(([name]) => name.toLowerCase() !== "x-amz-date") };
}

const suite = loadSuite();
const runs = suite.flatMap((suiteCase) =>
  (["header", "query"] as const)
    .filter((variant) => suiteCase.files[variant] !== undefined)
    .map((variant) => ({ suiteCase, variant, expected: SPECIAL[suiteCase.name]?.[variant] })),
);

describe("the official AWS SigV4 test suite", () => {
  beforeAll(() => {
    const lines = [
      `AWS SigV4 suite: ${suite.length} cases, ${runs.length} signed requests from test/vectors/aws4.`,
      ...Object.entries(SPECIAL).map(([name, special]) => `  special: ${name}: ${special.reason}`),
      ...Object.entries(ABSENT).map(([name, why]) => `  absent: ${name}: ${why}`),
      `  note: ${UNSIGNED_DATE_NOTE}`,
    ];
    console.log(lines.join("\n"));
  });

  it("holds the whole suite as stored (37 aws-c-auth cases and smithy-rs' get-query-plus)", () => {
    expect(suite).toHaveLength(38);
    expect(runs.length).toBeGreaterThanOrEqual(74);
  });

  it("lists as absent only cases that really are not stored", () => {
    for (const name of Object.keys(ABSENT)) expect(existsSync(join(AWS4_SUITE_DIR, name))).toBe(false);
  });

  it("names in the special table only stored requests", () => {
    for (const [name, special] of Object.entries(SPECIAL)) {
      const stored = suite.find((suiteCase) => suiteCase.name === name);
      for (const variant of ["header", "query"] as Variant[]) {
        if (special[variant] !== undefined) expect(stored?.files[variant], `${name} ${variant}`).toBeDefined();
      }
    }
  });

  it.each(runs.map((run) => [run.suiteCase.name, run.variant, run.expected ?? "accepted", run] as const))(
    "%s, %s form, is %s",
    (_name, variant, _outcome, { suiteCase, expected }) => {
      const parsed = parseSuiteRequest(suiteCase.files[variant] ?? "");
      const stripped = variant === "query" ? withoutUnsignedDateHeader(parsed) : undefined;
      if (stripped) expect(verify(parsed)).toMatchObject(expected === undefined ? { allowed: false, code: "AccessDenied" } : { allowed: false });
      const result = verify(stripped ?? parsed);
      if (expected === undefined) {
        expect(result).toMatchObject({ allowed: true, accessKeyId: "AKIDEXAMPLE", presigned: variant === "query", region: "us-east-1", service: "service" });
        if (suiteCase.context.token !== undefined) expect(result).toMatchObject({ securityToken: suiteCase.context.token });
      } else {
        expect(result).toMatchObject({ allowed: false, code: expected });
      }
    },
  );
});
