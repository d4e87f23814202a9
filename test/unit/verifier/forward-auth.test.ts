import { describe, expect, it } from "vitest";
import type { HeaderList } from "../../../src/signing/request.js";
import { type AuthRequest, describeForwarded, type Forwarded, gatewayOf } from "../../../src/verifier/forward-auth.js";
import type { ApiError } from "../../../src/verifier/errors.js";

/** The rebuilt client request, or the refusal as it is. */
function describe_(gateway: Parameters<typeof describeForwarded>[0], call: AuthRequest): Forwarded["request"] | ApiError {
  const result = describeForwarded(gateway, call);
  return "request" in result ? result.request : result;
}

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
    ["/v1/forward-auth/ingress-nginx", "ingress-nginx"],
    ["/v1/forward-auth/traefik", "traefik"],
    ["/v1/forward-auth/caddy", "caddy"],
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
    const described = describe_(
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
      headers: [["host", "api.example.test:8443"], ...signed],
      body: undefined,
    });
  });

  it("never reads X-Original-URL, which plain NGINX does not set and a client can", () => {
    const described = describe_(
      "nginx",
      auth([["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/admin/delete-all"], ["X-Original-URL", "https://h/public/readme"], ...signed]),
    );
    expect(described).toMatchObject({ rawPath: "/admin/delete-all", rawQuery: "" });
  });

  it("passes on the client's X-Forwarded-For as the gateway wrote it, once", () => {
    const result = describeForwarded("nginx", auth([["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"], ["X-Forwarded-For", "1.2.3.4, 10.0.0.1"]]));
    expect(result).toMatchObject({ forwardedFor: ["1.2.3.4, 10.0.0.1"] });
    expect(JSON.stringify(result)).not.toMatch(/"x-forwarded-for"/i);
  });

  it("reads ingress-nginx's absolute X-Original-URL, host included, on its own path", () => {
    const described = describe_(
      "ingress-nginx",
      auth([["Host", "keygate-verifier.svc"], ["X-Original-Method", "GET"], ["X-Original-URL", "https://api.example.test/a?b=c"], ...signed]),
    );
    expect(described).toMatchObject({ rawPath: "/a", rawQuery: "b=c", headers: expect.arrayContaining([["host", "api.example.test"]]) as unknown });
  });

  it("restores a signed content-length from X-Original-Content-Length when no body is forwarded", () => {
    const described = describe_(
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
    ["X-Original-URI", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/a"], ["X-Original-URI", "/b"]]],
    ["Host", [["Host", "h"], ["Host", "i"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"]]],
    ["X-Original-Content-Length", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"], ["X-Original-Content-Length", "1"], ["X-Original-Content-Length", "2"]]],
    ["X-Original-Content-Length", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"], ["X-Original-Content-Length", "-1"]]],
    ["X-Forwarded-For", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"], ["X-Forwarded-For", "1.2.3.4"], ["X-Forwarded-For", "10.0.0.1"]]],
    ["original URI", [["Host", "h"], ["X-Original-Method", "GET"], ["X-Original-URI", "*"]]],
  ] as Array<[string, HeaderList]>)("refuses a request without a usable %s", (field, headers) => {
    const result = describe_("nginx", auth(headers));
    expect(result).toMatchObject({ code: "InvalidRequest" });
    expect("message" in result && result.message).toContain(field);
  });
});

describe("ingress-nginx auth-url", () => {
  it.each([
    ["X-Original-URL", [["X-Original-Method", "GET"], ["X-Original-URL", "/relative"]]],
    ["X-Original-URL", [["X-Original-Method", "GET"], ["X-Original-URL", "https://h/a"], ["X-Original-URL", "https://h/b"]]],
    ["X-Original-URL", [["X-Original-Method", "GET"], ["X-Original-URI", "/a"]]],
    ["X-Original-Method", [["X-Original-Method", "GET"], ["X-Original-Method", "GET"], ["X-Original-URL", "https://h/a"]]],
  ] as Array<[string, HeaderList]>)("refuses a call without exactly one usable %s", (field, headers) => {
    const result = describe_("ingress-nginx", auth([["Host", "verifier"], ...headers]));
    expect(result).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining(field) as unknown });
  });

  it("does not take a length from X-Original-Content-Length, which ingress-nginx does not set", () => {
    const described = describe_("ingress-nginx", auth([["Host", "v"], ["X-Original-Method", "POST"], ["X-Original-URL", "https://h/"], ["X-Original-Content-Length", "42"]]));
    expect(described).toMatchObject({ headers: expect.not.arrayContaining([["content-length", "42"]]) as unknown });
  });
});

describe("Traefik ForwardAuth", () => {
  it("takes method, URI and host from X-Forwarded-*", () => {
    const described = describe_(
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
    const result = describe_("traefik", auth([["Host", "verifier"], ["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/"]]));
    expect(result).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("X-Forwarded-Host") as unknown });
  });

  it("refuses a repeated X-Forwarded-Host or X-Forwarded-Uri: Traefik sets each once", () => {
    const base: HeaderList = [["Host", "v"], ["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/"], ["X-Forwarded-Host", "h"]];
    expect(describe_("traefik", auth([...base, ["X-Forwarded-Host", "evil"]]))).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("X-Forwarded-Host") as unknown });
    expect(describe_("traefik", auth([...base, ["X-Forwarded-Uri", "/admin"]]))).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("X-Forwarded-Uri") as unknown });
  });

  it("keeps a forwarded body whatever partial-body or length headers a client adds: Traefik sets neither", () => {
    const body = Buffer.from("payload");
    const described = describe_(
      "traefik",
      auth([["Host", "v"], ["X-Forwarded-Method", "POST"], ["X-Forwarded-Uri", "/"], ["X-Forwarded-Host", "h"], ["Content-Length", "7"], ["x-envoy-auth-partial-body", "true"], ["X-Original-Content-Length", "3"]], { body }),
    );
    expect(described).toMatchObject({ body });
  });

  it("uses a forwarded body as the original body", () => {
    const body = Buffer.from("payload");
    const described = describe_(
      "traefik",
      auth([["Host", "v"], ["X-Forwarded-Method", "POST"], ["X-Forwarded-Uri", "/"], ["X-Forwarded-Host", "h"], ["Content-Length", "7"]], { body }),
    );
    expect(described).toMatchObject({ body, headers: expect.arrayContaining([["Content-Length", "7"]]) as unknown });
  });
});

describe("Caddy forward_auth", () => {
  it("takes method, URI and host from X-Forwarded-*, and refuses a repeated one", () => {
    const base: HeaderList = [["Host", "api.example.test"], ["X-Forwarded-Method", "PUT"], ["X-Forwarded-Uri", "/a?b"], ["X-Forwarded-Host", "api.example.test"], ...signed];
    expect(describe_("caddy", auth(base))).toMatchObject({ method: "PUT", rawPath: "/a", rawQuery: "b", headers: [["host", "api.example.test"], ...signed] });
    expect(describe_("caddy", auth([...base, ["X-Forwarded-Uri", "/admin"]]))).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("X-Forwarded-Uri") as unknown });
  });

  it("reads neither X-Original-URI nor a client's length or partial-body mark", () => {
    const described = describe_("caddy", auth([["Host", "h"], ["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/a"], ["X-Forwarded-Host", "h"], ["X-Original-URI", "/admin"], ["X-Original-Content-Length", "9"]]));
    expect(described).toMatchObject({ rawPath: "/a", headers: [["host", "h"], ["X-Original-URI", "/admin"], ["X-Original-Content-Length", "9"]] });
  });
});

describe("Envoy ext_authz (HTTP service)", () => {
  it("keeps the method and Host, and takes the path after the prefix", () => {
    const call = auth([["Host", "api.example.test"], ["Content-Length", "0"], ...signed], { method: "PATCH", target: "/v1/forward-auth/envoy/a/b?c=d" });
    expect(describeForwarded("envoy", call)).toEqual({
      request: { method: "PATCH", rawPath: "/a/b", rawQuery: "c=d", headers: [["host", "api.example.test"], ...signed], body: undefined },
      forwardedFor: [],
    });
  });

  it("keeps the root path of the original request", () => {
    const described = describe_("envoy", auth([["Host", "h"]], { target: "/v1/forward-auth/envoy/?list" }));
    expect(described).toMatchObject({ rawPath: "/", rawQuery: "list" });
  });

  it("does not take a body Envoy cut short as the original body", () => {
    const described = describe_(
      "envoy",
      auth([["Host", "h"], ["x-envoy-auth-partial-body", "true"], ["Content-Length", "4"]], { target: "/v1/forward-auth/envoy/", body: Buffer.from("part") }),
    );
    expect(described).toMatchObject({ body: undefined });
    expect(JSON.stringify(described)).not.toMatch(/content-length/i);
  });

  it("refuses a partial-body mark other than true or false, or a repeated one", () => {
    const call = (marks: string[]) => auth([["Host", "h"], ...marks.map((mark): [string, string] => ["x-envoy-auth-partial-body", mark])], { target: "/v1/forward-auth/envoy/", body: Buffer.from("x") });
    expect(describe_("envoy", call(["yes"]))).toMatchObject({ code: "InvalidRequest" });
    expect(describe_("envoy", call(["false", "true"]))).toMatchObject({ code: "InvalidRequest" });
    expect(describe_("envoy", call(["false"]))).toMatchObject({ body: Buffer.from("x") });
  });

  it("does not take a length from X-Original-Content-Length, which Envoy does not set", () => {
    const described = describe_("envoy", auth([["Host", "h"], ["X-Original-Content-Length", "42"]], { target: "/v1/forward-auth/envoy/" }));
    expect(described).toMatchObject({ headers: [["host", "h"], ["X-Original-Content-Length", "42"]] });
  });
});
