import { describe, expect, it } from "vitest";
import { parseVerifyCall } from "../../../src/verifier/description.js";

const LIMIT = 1024;

function parse(description: unknown): ReturnType<typeof parseVerifyCall> {
  return parseVerifyCall(JSON.stringify(description), LIMIT);
}

const minimal = { method: "GET", url: "/", headers: { Host: "api.example.test" } };

describe("a /v1/verify request description", () => {
  it("keeps the raw path and query, split at the first ?", () => {
    const call = parse({ ...minimal, url: "/a%2Fb/../c?x=1+2&y=%zz?z" });
    expect(call).toMatchObject({ request: { rawPath: "/a%2Fb/../c", rawQuery: "x=1+2&y=%zz?z" } });
  });

  it("turns header arrays into repeated headers in arrival order, keeping each name's spelling", () => {
    const call = parse({ ...minimal, headers: { Host: "h", "X-Amz-Meta-A": ["1", "2"], "x-other": "3" } });
    expect(call).toMatchObject({
      request: { headers: [["Host", "h"], ["X-Amz-Meta-A", "1"], ["X-Amz-Meta-A", "2"], ["x-other", "3"]] },
    });
  });

  it("decodes a base64 body, and tells an absent body from an empty one", () => {
    expect(parse({ ...minimal, body: Buffer.from("hello").toString("base64") })).toMatchObject({ request: { body: Buffer.from("hello") } });
    expect(parse({ ...minimal, body: "" })).toMatchObject({ request: { body: Buffer.alloc(0) } });
    const absent = parse(minimal);
    expect("request" in absent && absent.request.body).toBeUndefined();
    const nulled = parse({ ...minimal, body: null });
    expect("request" in nulled && nulled.request.body).toBeUndefined();
  });

  it("normalises an IPv4-mapped sourceIp", () => {
    expect(parse({ ...minimal, sourceIp: "::ffff:192.0.2.10" })).toMatchObject({ sourceIp: { text: "192.0.2.10" } });
  });

  it.each([
    ["a JSON array", [], "the body must be a JSON object"],
    ["a missing method", { url: "/", headers: {} }, "method:"],
    ["an empty method", { ...minimal, method: "" }, "method:"],
    ["a url that is not a path", { ...minimal, url: "https://example.test/" }, "url:"],
    ["a numeric url", { ...minimal, url: 5 }, "url:"],
    ["headers as a list", { ...minimal, headers: [["Host", "h"]] }, "headers:"],
    ["a numeric header value", { ...minimal, headers: { Host: 1 } }, "headers.Host:"],
    ["an empty header array", { ...minimal, headers: { "X-A": [] } }, "headers.X-A:"],
    ["a body that is not base64", { ...minimal, body: "not base64!" }, "body:"],
    ["a base64url body", { ...minimal, body: "-_-_" }, "body:"],
    ["unpadded base64", { ...minimal, body: "aGVsbG8" }, "body:"],
    ["an invalid sourceIp", { ...minimal, sourceIp: "10.0.0.300" }, "sourceIp:"],
    ["an unknown field", { ...minimal, sourceIP: "10.0.0.1" }, "sourceIP: unknown field"],
  ])("refuses %s with InvalidRequest naming the field", (_name, description, message) => {
    const result = parse(description);
    expect(result).toMatchObject({ allowed: false, code: "InvalidRequest", httpStatus: 400 });
    expect("message" in result && result.message).toContain(message);
  });

  it("refuses text that is not JSON", () => {
    expect(parseVerifyCall("{", LIMIT)).toMatchObject({ code: "InvalidRequest" });
  });

  it("refuses a described body over the limit with EntityTooLarge, and accepts one at the limit", () => {
    expect(parse({ ...minimal, body: Buffer.alloc(LIMIT + 1).toString("base64") })).toMatchObject({ code: "EntityTooLarge", httpStatus: 413 });
    expect(parse({ ...minimal, body: Buffer.alloc(LIMIT).toString("base64") })).toHaveProperty("request");
  });

  it("cuts a hostile header name short in the message", () => {
    const result = parse({ ...minimal, headers: { ["x".repeat(10_000)]: 1 } });
    expect("message" in result && result.message.length).toBeLessThan(200);
  });
});
