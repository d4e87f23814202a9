import { describe, expect, it } from "vitest";
import type { HeaderList } from "../../../src/signing/request.js";
import { type AuthRequest, describeForwarded, gatewayOf } from "../../../src/verifier/forward-auth.js";

function auth(headers: HeaderList, extra: Partial<AuthRequest> = {}): AuthRequest {
  return { method: "GET", target: "/v1/forward-auth/nginx", headers, body: undefined, ...extra };
}

const signed: HeaderList = [
  ["Authorization", "AWS4-HMAC-SHA256 Credential=…"],
  ["X-Amz-Date", "20240101T000000Z"],
];

describe("forward-auth routes", () => {
  it.each([
    ["/v1/forward-auth/nginx", "nginx"],
    ["/v1/forward-auth/traefik", "traefik"],
    ["/v1/forward-auth/envoy/", "envoy"],
    ["/v1/forward-auth/envoy/buckets/a", "envoy"],
    ["/v1/forward-auth", undefined],
    ["/v1/forward-auth/envoy", undefined],
    ["/v1/forward-auth/envoyx/a", undefined],
    ["/v1/forward-auth/nginx/", undefined],
  ])("%s is %s", (path, gateway) => {
    expect(gatewayOf(path)).toBe(gateway);
  });
});

describe("NGINX auth_request", () => {
  it("takes method and URI from X-Original-*, the Host as sent, and drops the hop's framing headers", () => {
    const described = describeForwarded(
      "nginx",
      auth([
        ["Host", "api.example.test:8443"],
        ["X-Original-Method", "PUT"],
        ["X-Original-URI", "/things/a%20b?x=1&y"],
        ["Connection", "close"],
        ["Content-Length", "0"],
        ...signed,
      ]),
    );
    expect(described).toEqual({
      method: "PUT",
      rawPath: "/things/a%20b",
      rawQuery: "x=1&y",
      headers: [["host", "api.example.test:8443"], ["X-Original-Method", "PUT"], ["X-Original-URI", "/things/a%20b?x=1&y"], ...signed],
      body: undefined,
    });
  });

  it("reads ingress-nginx's absolute X-Original-URL, host included", () => {
    const described = describeForwarded(
      "nginx",
      auth([["Host", "keygate-verifier.svc"], ["X-Original-Method", "GET"], ["X-Original-URL", "https://api.example.test/a?b=c"], ...signed]),
    );
    expect(described).toMatchObject({ rawPath: "/a", rawQuery: "b=c", headers: expect.arrayContaining([["host", "api.example.test"]]) as unknown });
  });

  it("restores a signed content-length from X-Original-Content-Length when no body is forwarded", () => {
    const described = describeForwarded(
      "nginx",
      auth([["Host", "h"], ["X-Original-Method", "POST"], ["X-Original-URI", "/"], ["X-Original-Content-Length", "42"], ...signed]),
    );
    expect(described).toMatchObject({ headers: expect.arrayContaining([["content-length", "42"]]) as unknown });
    expect(JSON.stringify(described)).not.toMatch(/x-original-content-length/i);
  });

  it.each([
    ["X-Original-Method", [["Host", "h"], ["X-Original-URI", "/"]]],
    ["X-Original-URI", [["Host", "h"], ["X-Original-Method", "GET"]]],
    ["X-Original-Method", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-Method", "PUT"], ["X-Original-URI", "/"]]],
    ["X-Original-URL", [["X-Original-Method", "GET"], ["X-Original-URL", "/relative"]]],
    ["original URI", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "*"]]],
  ] as Array<[string, HeaderList]>)("refuses a request without a usable %s", (field, headers) => {
    const result = describeForwarded("nginx", auth(headers));
    expect(result).toMatchObject({ code: "InvalidRequest" });
    expect("message" in result && result.message).toContain(field);
  });
});

describe("Traefik ForwardAuth", () => {
  it("takes method, URI and host from X-Forwarded-*", () => {
    const described = describeForwarded(
      "traefik",
      auth([
        ["Host", "verifier:8080"],
        ["X-Forwarded-Method", "DELETE"],
        ["X-Forwarded-Uri", "/items/7?force"],
        ["X-Forwarded-Host", "api.example.test"],
        ["X-Forwarded-Proto", "https"],
        ...signed,
      ]),
    );
    expect(described).toMatchObject({ method: "DELETE", rawPath: "/items/7", rawQuery: "force", headers: expect.arrayContaining([["host", "api.example.test"]]) as unknown });
    expect(JSON.stringify(described)).not.toContain("verifier:8080");
  });

  it("refuses a request without X-Forwarded-Host rather than verifying against the verifier's own Host", () => {
    const result = describeForwarded("traefik", auth([["Host", "verifier"], ["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/"]]));
    expect(result).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("X-Forwarded-Host") as unknown });
  });

  it("uses a forwarded body as the original body", () => {
    const body = Buffer.from("payload");
    const described = describeForwarded(
      "traefik",
      auth([["Host", "v"], ["X-Forwarded-Method", "POST"], ["X-Forwarded-Uri", "/"], ["X-Forwarded-Host", "h"], ["Content-Length", "7"]], { body }),
    );
    expect(described).toMatchObject({ body, headers: expect.arrayContaining([["Content-Length", "7"]]) as unknown });
  });
});

describe("Envoy ext_authz (HTTP service)", () => {
  it("keeps the method and Host, and takes the path after the prefix", () => {
    const described = describeForwarded(
      "envoy",
      auth([["Host", "api.example.test"], ["Content-Length", "0"], ...signed], { method: "PATCH", target: "/v1/forward-auth/envoy/a/b?c=d" }),
    );
    expect(described).toEqual({ method: "PATCH", rawPath: "/a/b", rawQuery: "c=d", headers: [["host", "api.example.test"], ...signed], body: undefined });
  });

  it("keeps the root path of the original request", () => {
    const described = describeForwarded("envoy", auth([["Host", "h"]], { target: "/v1/forward-auth/envoy/?list" }));
    expect(described).toMatchObject({ rawPath: "/", rawQuery: "list" });
  });

  it("does not take a body Envoy cut short as the original body", () => {
    const described = describeForwarded(
      "envoy",
      auth([["Host", "h"], ["x-envoy-auth-partial-body", "true"], ["Content-Length", "4"]], { target: "/v1/forward-auth/envoy/", body: Buffer.from("part") }),
    );
    expect(described).toMatchObject({ body: undefined });
    expect(JSON.stringify(described)).not.toMatch(/content-length/i);
  });
});
