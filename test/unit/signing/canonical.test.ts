import { describe, expect, it } from "vitest";
import {
  canonicalHeaderValue,
  canonicalHeaders,
  canonicalQuery,
  parseQuery,
  percentDecode,
  removeDotSegments,
  uriEncode,
} from "../../../src/signing/canonical.js";
import { huaweiCanonicalUri } from "../../../src/signing/huawei.js";
import { indexHeaders, splitRequestTarget } from "../../../src/signing/request.js";
import { sigV4CanonicalUri } from "../../../src/signing/sigv4.js";

describe("RFC 3986 encoding", () => {
  it.each([
    ["a space becomes %20, never +", "a b", false, "a%20b"],
    ["a plus is encoded", "a+b", false, "a%2Bb"],
    ["unreserved characters stay as they are", "AZaz09-._~", false, "AZaz09-._~"],
    ["reserved characters use uppercase hex", "!*'();:@&=$,/?#[]", false, "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%2F%3F%23%5B%5D"],
    ["non-ASCII text is encoded as its UTF-8 bytes", "ሴ", false, "%E1%88%B4"],
    ["a slash is kept only when asked", "/a/b", true, "/a/b"],
    ["a percent sign is encoded again", "%20", false, "%2520"],
    ["a lone surrogate is encoded as the replacement character instead of throwing", "\ud800", false, "%EF%BF%BD"],
  ])("%s", (_rule, input, keepSlash, expected) => {
    expect(uriEncode(input, keepSlash)).toBe(expected);
  });
});

describe("percent-decoding", () => {
  it.each([
    ["a valid escape decodes", "%41%62", "Ab"],
    ["lowercase hex decodes", "%2f", "/"],
    ["a plus stays a plus", "a+b", "a+b"],
    ["text without escapes is unchanged", "ሴ", "ሴ"],
  ])("%s", (_rule, input, expected) => {
    expect(percentDecode(input)?.toString("utf8")).toBe(expected);
  });

  it.each([
    ["a percent sign without digits", "%"],
    ["a single hex digit", "%4"],
    ["non-hex digits", "%zz"],
    ["a percent sign before the end", "abc%2"],
  ])("%s is malformed", (_rule, input) => {
    expect(percentDecode(input)).toBeUndefined();
  });
});

describe("the canonical query", () => {
  it.each([
    ["keys sort by their encoded bytes, uppercase first", "b=1&B=2&a=3", "B=2&a=3&b=1"],
    ["a repeated key sorts by value", "k=b&k=a", "k=a&k=b"],
    ["a key without = gets an empty value", "lifecycle", "lifecycle="],
    ["a key with = and nothing after gets an empty value", "a=", "a="],
    ["a raw plus is a literal plus (%2B), not a space", "c+d=e+f", "c%2Bd=e%2Bf"],
    ["%20 stays %20", "a=b%20c", "a=b%20c"],
    ["lowercase escapes are re-encoded uppercase", "a=%2f", "a=%2F"],
    ["needlessly escaped unreserved characters are decoded", "%41=%7E", "A=~"],
    ["empty parameters (&&) are dropped", "a=1&&b=2&", "a=1&b=2"],
    ["raw UTF-8 is encoded", "ሴ=bar", "%E1%88%B4=bar"],
    ["sorting happens after encoding, as the SDKs do", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"],
  ])("%s", (_rule, raw, expected) => {
    expect(canonicalQuery(parseQuery(raw) ?? [])).toBe(expected);
  });

  it("drops only the excluded key (X-Amz-Signature for presigned requests)", () => {
    expect(canonicalQuery(parseQuery("X-Amz-Signature=abc&X-Amz-Date=1&b=2") ?? [], "X-Amz-Signature")).toBe("X-Amz-Date=1&b=2");
  });

  it("invalid percent-encoding makes the whole query malformed", () => {
    expect(parseQuery("a=1&b=%G0")).toBeUndefined();
  });
});

describe("canonical header values", () => {
  it.each([
    ["values are trimmed", [" v "], true, "v"],
    ["inner runs of white space collapse to one space for SigV4", ['"a   b \t c"'], true, '"a b c"'],
    ["inner white space is kept where only trimming applies", ["a   b"], false, "a   b"],
    ["repeated headers join with a comma in arrival order", ["value2", "value2", "value1"], true, "value2,value2,value1"],
    ["repeated headers are trimmed one by one", [" a ", " b "], false, "a,b"],
  ])("%s", (_rule, values, collapse, expected) => {
    expect(canonicalHeaderValue(values, collapse)).toBe(expected);
  });

  it("header names are matched case-insensitively and written lowercase in signed-list order", () => {
    const index = indexHeaders([
      ["X-Amz-Date", "20150830T123600Z"],
      ["Host", "example.amazonaws.com"],
      ["My-Header1", "b"],
      ["my-header1", "a"],
    ]);
    expect(canonicalHeaders(index, ["host", "my-header1", "x-amz-date"], true)).toBe("host:example.amazonaws.com\nmy-header1:b,a\nx-amz-date:20150830T123600Z\n");
  });
});

describe("canonical URIs", () => {
  it.each([
    ["the empty path is /", "", "/"],
    ["dot segments are removed", "/a/./b/../c", "/a/c"],
    [".. above the root stays at the root", "/../../a", "/a"],
    ["empty segments are removed and a trailing slash kept", "//example//", "/example/"],
    ["a path that normalises to nothing is /", "/example/..", "/"],
    ["an encoded dot is an ordinary segment, as the signer saw it", "/a/%2E%2E/b", "/a/%2E%2E/b"],
  ])("non-S3 normalisation: %s", (_rule, raw, expected) => {
    expect(removeDotSegments(raw)).toBe(expected);
  });

  it.each([
    ["non-S3 paths are encoded a second time", "/a%20b", "service", "/a%2520b"],
    ["non-S3 paths are normalised before encoding", "/a/../b%2Fc", "service", "/b%252Fc"],
    ["S3 paths are used exactly as sent", "/a%20b/../c", "s3", "/a%20b/../c"],
    ["an empty S3 path is /", "", "s3", "/"],
  ])("SigV4: %s", (_rule, raw, service, expected) => {
    expect(sigV4CanonicalUri(raw, service)).toBe(expected);
  });

  it.each([
    ["each segment is encoded again and a trailing slash added", "/v1/a%20b/vpcs", "/v1/a%2520b/vpcs/"],
    ["an existing trailing slash is not doubled", "/v1/", "/v1/"],
    ["the empty path is /", "", "/"],
    ["dot segments are not removed", "/a/../b", "/a/../b/"],
  ])("Huawei: %s", (_rule, raw, expected) => {
    expect(huaweiCanonicalUri(raw)).toBe(expected);
  });
});

describe("request targets", () => {
  it.each([
    ["splits at the first question mark only", "/a?b=c?d", "/a", "b=c?d"],
    ["keeps the path raw", "/a/../%2E/b+c", "/a/../%2E/b+c", ""],
    ["keeps an empty query after a bare question mark", "/a?", "/a", ""],
  ])("%s", (_rule, target, rawPath, rawQuery) => {
    expect(splitRequestTarget(target)).toEqual({ rawPath, rawQuery });
  });
});
