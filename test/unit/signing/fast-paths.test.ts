// The signing core takes shortcuts on its hot path (input that is already canonical is used as
// it is, dates are parsed by hand, lists are checked in one pass). Each shortcut must give
// exactly what the general rule gives: these tests compare them, on edge cases and on many
// generated inputs, with straightforward reference versions of the rules.
import { describe, expect, it } from "vitest";
import { parseAuthParams, parseSignedHeaderList } from "../../../src/signing/auth-header.js";
import { canonicalHeaderValue, canonicalQuery, decodeComponent, parseQuery, percentDecode, removeDotSegments, uriEncode } from "../../../src/signing/canonical.js";
import { isSha256Hex, signatureMatches } from "../../../src/signing/digest.js";
import { huaweiCanonicalUri } from "../../../src/signing/huawei.js";
import { checkRequestShape, headerValue, indexHeaders } from "../../../src/signing/request.js";
import { SigningKeyCache } from "../../../src/signing/signing-key-cache.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { parseCompactUtc, parseIsoUtc } from "../../../src/signing/time.js";
import { headerOf, setHeader, verifyWith } from "./helpers.js";

/** Deterministic generator (mulberry32), so a failure is reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function strings(seed: number, alphabet: readonly string[], count: number, maxLength: number): string[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    let text = "";
    const length = Math.floor(next() * (maxLength + 1));
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)] as string;
    return text;
  });
}

const URI_ALPHABET = [..."aZ09-._~/%2fF+ ?=&", "%41", "%2E", "..", "ሴ", "é", "\ud800", "//", "/./", "/../"];

// Reference rules, written the direct way.
function referenceEncodeBytes(bytes: Buffer, keepSlash: boolean): string {
  let out = "";
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/") ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function referenceEncode(text: string, keepSlash: boolean): string {
  return referenceEncodeBytes(Buffer.from(text, "utf8"), keepSlash);
}

function referenceRemoveDotSegments(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}${segments.length > 0 && rawPath.endsWith("/") ? "/" : ""}`;
}

function referenceQuery(rawQuery: string): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = percentDecode(eq < 0 ? part : part.slice(0, eq));
    const value = percentDecode(eq < 0 ? "" : part.slice(eq + 1));
    if (key === undefined || value === undefined) return undefined;
    pairs.push([referenceEncodeBytes(key, false), referenceEncodeBytes(value, false)]);
  }
  return pairs;
}

function referenceDate(value: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  const exact = back.getUTCMonth() === month - 1 && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second;
  return exact ? ms : undefined;
}

describe("URI encoding shortcuts", () => {
  it("3000 generated texts encode as the byte-by-byte rule does", () => {
    for (const text of strings(1, URI_ALPHABET, 3000, 12)) {
      expect(uriEncode(text), text).toBe(referenceEncode(text, false));
      expect(uriEncode(text, true), text).toBe(referenceEncode(text, true));
    }
  });

  it("2000 generated paths normalise as the segment rule does", () => {
    for (const rawPath of strings(2, URI_ALPHABET, 2000, 14)) {
      expect(removeDotSegments(rawPath), rawPath).toBe(referenceRemoveDotSegments(rawPath));
      expect(removeDotSegments(`/${rawPath}`), rawPath).toBe(referenceRemoveDotSegments(`/${rawPath}`));
    }
  });

  it("2000 generated Huawei paths encode each segment again", () => {
    for (const rawPath of strings(3, URI_ALPHABET, 2000, 14)) {
      const perSegment = rawPath
        .split("/")
        .map((segment) => referenceEncode(segment, false))
        .join("/");
      expect(huaweiCanonicalUri(rawPath), rawPath).toBe(perSegment.endsWith("/") ? perSegment : `${perSegment}/`);
    }
  });

  it("3000 generated queries parse as the split-and-decode rule does", () => {
    for (const rawQuery of strings(4, [...URI_ALPHABET, "%zz", "%4", "%"], 3000, 16)) {
      expect(parseQuery(rawQuery), rawQuery).toEqual(referenceQuery(rawQuery));
    }
  });

  it("3000 generated components decode as the byte rule does", () => {
    for (const text of strings(8, [...URI_ALPHABET, "%zz", "%4", "%", "%C3%A9", "%E1%88%B4", "%FF", "%7e"], 3000, 10)) {
      expect(decodeComponent(text), text).toBe((percentDecode(text) ?? Buffer.alloc(0)).toString("utf8"));
    }
  });

  it("the canonical query keeps sorting by encoded key, then value", () => {
    const pairs = parseQuery("b=2&a=2&a=1&B=0&X-Amz-Signature=s&c") ?? [];
    expect(canonicalQuery(pairs)).toBe("B=0&X-Amz-Signature=s&a=1&a=2&b=2&c=");
    expect(canonicalQuery(pairs, "X-Amz-Signature")).toBe("B=0&a=1&a=2&b=2&c=");
    expect(canonicalQuery([])).toBe("");
  });
});

describe("header value shortcuts", () => {
  const alphabet = [..."ab ,;=\t", "  ", "\u00a0", "\u3000", "\ufeff", "é", "\v", "\f"];
  it("3000 generated values are trimmed and collapsed as the regular expression rule does", () => {
    for (const value of strings(5, alphabet, 3000, 10)) {
      expect(canonicalHeaderValue([value], true), value).toBe(value.trim().replace(/\s+/g, " "));
      expect(canonicalHeaderValue([value, value], false), value).toBe(`${value.trim()},${value.trim()}`);
    }
  });

  it("an empty list of values is empty, a repeated header joins with commas", () => {
    expect(canonicalHeaderValue([], true)).toBe("");
    expect(headerValue(indexHeaders([["A", "1"], ["a", "2"]]), "a")).toBe("1,2");
    expect(headerValue(indexHeaders([["A", "1"]]), "a")).toBe("1");
    expect(headerValue(indexHeaders([]), "a")).toBeUndefined();
  });

  it.each([
    ["a CR", "a\rb"],
    ["an LF", "a\nb"],
    ["a NUL", "a\0b"],
    ["an LF at the very end", "ab\n"],
  ])("a header value with %s is refused", (_what, value) => {
    expect(checkRequestShape({ method: "GET", rawPath: "/", rawQuery: "", headers: [["x", value]] })).toMatchObject({ code: "InvalidArgument" });
  });

  it("999 ampersands are within the parameter limit and 1000 are not", () => {
    const shape = (rawQuery: string) => checkRequestShape({ method: "GET", rawPath: "/", rawQuery, headers: [] });
    expect(shape("&".repeat(999))).toBeUndefined();
    expect(shape("&".repeat(1000))).toMatchObject({ code: "InvalidArgument", message: "the query string has too many parameters" });
  });
});

describe("authorization parameter shortcuts", () => {
  const expected = ["Credential", "SignedHeaders", "Signature"];

  it.each([
    ["all three, SDK style", "Credential=a, SignedHeaders=b, Signature=c", { ok: true }],
    ["all three, Alibaba style", "Credential=a,SignedHeaders=b,Signature=c", { ok: true }],
    ["one missing", "Credential=a, Signature=c", { ok: false, incomplete: true, reason: "missing SignedHeaders" }],
    ["two missing", "Signature=c", { ok: false, incomplete: true, reason: "missing Credential, SignedHeaders" }],
    ["a trailing comma", "Credential=a, SignedHeaders=b, Signature=c,", { ok: false, incomplete: false }],
    ["nothing", "", { ok: false, incomplete: false }],
    ["a repeat", "Credential=a, Credential=a, Signature=c", { ok: false, incomplete: false }],
  ])("%s", (_case, text, result) => {
    expect(parseAuthParams(text, expected)).toMatchObject(result);
  });

  const names = ["a", "b", "host", "x-amz-date", "A", "", "a b", "é", "!#$%&'*+.^_`|~-"];
  it("2000 generated signed header lists are read as split-and-check reads them", () => {
    for (const generated of strings(6, names.map((name) => `${name};`), 2000, 5)) {
      const list = generated.slice(0, -1);
      const parts = list.split(";");
      const valid = parts.every((name) => /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) && new Set(parts).size === parts.length;
      expect(parseSignedHeaderList(list), list).toEqual(valid ? parts : undefined);
    }
  });
});

describe("date shortcuts", () => {
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
  const edges = [
    "20240229T235959Z",
    "20230229T000000Z",
    "19000229T000000Z",
    "20000229T000000Z",
    "00000229T000000Z",
    "00040229T000000Z",
    "00990101T000000Z",
    "99991231T235959Z",
    "20240431T000000Z",
    "20241301T000000Z",
    "20240001T000000Z",
    "20240100T000000Z",
    "20240101T240000Z",
    "20240101T006000Z",
    "20240101T000060Z",
    "2024010１T000000Z",
    "20240101t000000Z",
    "20240101T000000z",
    "20240101T000000",
    " 20240101T000000Z",
    "+2024010T000000Z",
    "",
  ];

  it.each(edges.map((value) => [value]))("compact %j parses as the regular expression and Date round trip do", (value) => {
    expect(parseCompactUtc(value)).toBe(referenceDate(value, compact));
  });

  it.each(edges.map((value) => [value]))("ISO form of %j parses as the regular expression and Date round trip do", (value) => {
    const isoValue = value.length === 16 ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z` : value;
    expect(parseIsoUtc(isoValue)).toBe(referenceDate(isoValue, iso));
  });

  it("every day of a leap and a common year, and every time field bound, agrees with Date", () => {
    const next = random(7);
    for (let i = 0; i < 20_000; i++) {
      const pad = (n: number, width: number) => String(n).padStart(width, "0");
      const value = `${pad(Math.floor(next() * 10_000), 4)}${pad(Math.floor(next() * 14), 2)}${pad(Math.floor(next() * 33), 2)}T${pad(Math.floor(next() * 26), 2)}${pad(Math.floor(next() * 62), 2)}${pad(Math.floor(next() * 62), 2)}Z`;
      expect(parseCompactUtc(value)).toBe(referenceDate(value, compact));
    }
  });
});

describe("signature comparison shortcuts", () => {
  const expected = Buffer.from("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "hex");

  it("the reused decoding buffer never lets an earlier signature match a later one", () => {
    expect(signatureMatches(expected, expected.toString("hex"))).toBe(true);
    expect(signatureMatches(expected, "0".repeat(64))).toBe(false);
    expect(signatureMatches(expected, `${expected.toString("hex").slice(0, 62)}zz`)).toBe(false);
    expect(signatureMatches(expected, expected.toString("hex").toUpperCase())).toBe(true);
    expect(signatureMatches(Buffer.alloc(20), "0".repeat(64))).toBe(false);
  });

  it.each(["", "0".repeat(63), "0".repeat(65), `${"0".repeat(63)}g`, "Ａ".repeat(64)])("%j is not a SHA-256 in hex", (value) => {
    expect(isSha256Hex(value)).toBe(false);
  });
});

describe("signing key cache ids", () => {
  it("scopes whose fields differ only in where one ends and the next begins get different keys", () => {
    const cache = new SigningKeyCache();
    const a = cache.get("secret", { date: "20240501", region: "eu1", service: "2s3" });
    const b = cache.get("secret", { date: "20240501", region: "eu12", service: "s3" });
    const c = cache.get("1secret", { date: "20240501", region: "eu12", service: "s" });
    expect(a.equals(b)).toBe(false);
    expect(b.equals(c)).toBe(false);
    expect(cache.size).toBe(3);
  });
});

describe("credential parsing, through verification", () => {
  const KEYS = { AKIDFAST: "fast-path-secret" };
  const NOW = new Date("2024-05-01T10:00:00Z");
  const signed = signSigV4({ method: "GET", rawPath: "/", rawQuery: "", headers: [["Host", "example.com"]] }, { accessKeyId: "AKIDFAST", secret: KEYS.AKIDFAST, region: "us-east-1", service: "sts" }, NOW);
  const withCredential = (credential: string) => setHeader(signed, "authorization", headerOf(signed, "authorization").replace(/Credential=[^,]+/, `Credential=${credential}`));

  it.each([
    ["an empty access key", "/20240501/us-east-1/sts/aws4_request"],
    ["an empty region", "AKIDFAST/20240501//sts/aws4_request"],
    ["an empty service", "AKIDFAST/20240501/us-east-1//aws4_request"],
    ["an extra part", "AKIDFAST/x/20240501/us-east-1/sts/aws4_request"],
    ["a missing part", "AKIDFAST/20240501/sts/aws4_request"],
    ["a seven-digit date", "AKIDFAST/2024051/us-east-1/sts/aws4_request"],
    ["a date with a letter", "AKIDFAST/2024050a/us-east-1/sts/aws4_request"],
    ["a terminator with a suffix", "AKIDFAST/20240501/us-east-1/sts/aws4_requestx"],
    ["a trailing slash", "AKIDFAST/20240501/us-east-1/sts/aws4_request/"],
    ["only the terminator", "aws4_request"],
    ["slashes only", "/////aws4_request"],
  ])("%s is AuthorizationHeaderMalformed", (_case, credential) => {
    expect(verifyWith(KEYS, withCredential(credential), NOW)).toMatchObject({ allowed: false, code: "AuthorizationHeaderMalformed" });
  });

  it("the well-formed credential verifies and names its scope", () => {
    expect(verifyWith(KEYS, signed, NOW)).toMatchObject({ allowed: true, accessKeyId: "AKIDFAST", region: "us-east-1", service: "sts" });
  });
});
