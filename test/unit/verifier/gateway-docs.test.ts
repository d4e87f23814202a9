import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FORWARD_AUTH_PATHS, type Gateway } from "../../../src/verifier/forward-auth.js";

// docs/gateways.md holds one configuration per gateway, after a `<!-- gateway-config: … -->`
// line, for people to copy and for tests to run verbatim. These checks keep each one pointed at
// its own path and clearing what a client could send.
const DOC = readFileSync(new URL("../../../docs/gateways.md", import.meta.url), "utf8");

/** The fenced block right after a gateway's marker line. */
function configOf(gateway: Gateway): string | undefined {
  const marker = DOC.indexOf(`<!-- gateway-config: ${gateway} -->\n`);
  if (marker < 0) return undefined;
  const block = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(DOC.slice(marker));
  return block?.[1];
}

const GATEWAYS = Object.keys(FORWARD_AUTH_PATHS) as Gateway[];
const ANSWER_HEADERS = ["X-Keygate-Namespace", "X-Keygate-User", "X-Keygate-Access-Key-Id", "X-Keygate-Credential-Type", "X-Keygate-Payload-Verified", "X-Keygate-Service", "X-Keygate-Region", "X-Keygate-Date"];

describe("the gateway configurations of docs/gateways.md", () => {
  it.each(GATEWAYS)("%s has exactly one, after its marker line, calling its own path", (gateway) => {
    expect(DOC.split(`<!-- gateway-config: ${gateway} -->`).length - 1).toBe(1);
    expect(configOf(gateway)).toContain(FORWARD_AUTH_PATHS[gateway]);
    for (const other of GATEWAYS.filter((name) => name !== gateway)) expect(configOf(gateway)).not.toContain(`${FORWARD_AUTH_PATHS[other]}"`);
  });

  it.each(GATEWAYS.filter((gateway) => gateway !== "envoy"))("%s passes every answer header upstream", (gateway) => {
    const config = configOf(gateway)?.toLowerCase() ?? "";
    for (const header of ANSWER_HEADERS) expect(config, header).toContain(header.toLowerCase());
  });

  it("NGINX sets every header its path reads, and clears client copies of the headers other gateways set", () => {
    const nginx = configOf("nginx") ?? "";
    for (const header of ["Host", "X-Original-Method", "X-Original-URI", "X-Original-Content-Length", "X-Forwarded-For"]) expect(nginx).toMatch(new RegExp(`proxy_set_header ${header} \\$`));
    for (const header of ["X-Original-URL", "X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Host", "X-Envoy-Auth-Partial-Body"]) expect(nginx).toContain(`proxy_set_header ${header} "";`);
  });

  it("Traefik does not trust a client's X-Forwarded-*, and Envoy fails closed with its own partial-body mark", () => {
    expect(configOf("traefik")).toContain("trustForwardHeader: false");
    expect(configOf("envoy")).toContain("failure_mode_allow: false");
    expect(configOf("envoy")).toContain("with_request_body:");
  });
});
