import { describe, expect, it } from "vitest";
import { parseNetworks } from "../../../src/verifier/ip.js";
import { directClientIp, gatewayClientIp } from "../../../src/verifier/source-ip.js";

const parsed = parseNetworks(["10.0.0.0/8", "::1"]);
if (!parsed.ok) throw new Error("bad test networks");
const trustedProxies = parsed.networks;

describe("the client address of a request made to the verifier", () => {
  it.each([
    ["uses the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says", "203.0.113.9", ["198.51.100.1"], "203.0.113.9"],
    ["normalises an IPv4-mapped socket peer", "::ffff:203.0.113.9", [], "203.0.113.9"],
    ["takes the nearest untrusted hop behind a trusted proxy", "10.0.0.5", ["198.51.100.1, 203.0.113.4, 10.1.1.1"], "203.0.113.4"],
    ["reads repeated X-Forwarded-For headers in arrival order", "10.0.0.5", ["198.51.100.1", "203.0.113.4"], "203.0.113.4"],
    ["normalises a mapped hop", "::1", ["::ffff:203.0.113.4"], "203.0.113.4"],
    ["uses a trusted proxy's own address when it forwards nothing", "10.0.0.5", [], "10.0.0.5"],
    ["takes the leftmost hop when every hop is trusted", "10.0.0.5", ["10.2.2.2, 10.3.3.3"], "10.2.2.2"],
  ])("%s", (_name, peer, forwardedFor, expected) => {
    expect(directClientIp({ peer, forwardedFor, trustedProxies })?.text).toBe(expected);
  });

  it("gives no address when a hop a trusted proxy vouches for is not an address", () => {
    expect(directClientIp({ peer: "10.0.0.5", forwardedFor: ["203.0.113.4, garbage"], trustedProxies })).toBeUndefined();
  });

  it("does not look past a client-written entry", () => {
    expect(directClientIp({ peer: "10.0.0.5", forwardedFor: ["garbage, 203.0.113.4"], trustedProxies })?.text).toBe("203.0.113.4");
  });
});

describe("the client address of a request a gateway describes", () => {
  it("comes from X-Forwarded-For of a trusted gateway", () => {
    expect(gatewayClientIp({ peer: "::ffff:10.0.0.7", forwardedFor: ["203.0.113.4"], trustedProxies })?.text).toBe("203.0.113.4");
  });

  it("is unknown when the gateway is not trusted: its socket address is the gateway's, not the client's", () => {
    expect(gatewayClientIp({ peer: "192.0.2.1", forwardedFor: ["203.0.113.4"], trustedProxies })).toBeUndefined();
  });

  it("is unknown when a trusted gateway forwards no X-Forwarded-For", () => {
    expect(gatewayClientIp({ peer: "10.0.0.7", forwardedFor: [], trustedProxies })).toBeUndefined();
  });
});
