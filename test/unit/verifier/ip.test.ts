import { describe, expect, it } from "vitest";
import { inNetworks, parseClientIp, parseNetworks } from "../../../src/verifier/ip.js";

function networks(...entries: string[]) {
  const parsed = parseNetworks(entries);
  if (!parsed.ok) throw new Error(`bad test networks: ${parsed.entry}`);
  return parsed.networks;
}

describe("client addresses", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::FFFF:203.0.113.7", "203.0.113.7"],
    ["0:0:0:0:0:ffff:cb00:7107", "203.0.113.7"],
    ["::ffff:cb00:7107", "203.0.113.7"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["[2001:db8::1]:8443", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["203.0.113.7:51234", "203.0.113.7"],
    [" 198.51.100.1 ", "198.51.100.1"],
  ])("reads %s as %s", (input, expected) => {
    expect(parseClientIp(input)?.text).toBe(expected);
  });

  it.each(["", "localhost", "1.2.3", "01.2.3.4", "256.1.1.1", "1.2.3.4.5", "2001:db8::g", "::ffff:999.1.1.1", "[::1", "1.2.3.4/32"])(
    "refuses %j",
    (input) => {
      expect(parseClientIp(input)).toBeUndefined();
    },
  );

  it("gives an IPv4-mapped peer the same bytes as the plain IPv4 address", () => {
    expect(parseClientIp("::ffff:10.1.2.3")?.bytes).toEqual(parseClientIp("10.1.2.3")?.bytes);
  });
});

describe("networks", () => {
  it("matches IPv4 and IPv6 prefixes, each only against its own family", () => {
    const allowed = networks("10.0.0.0/8", "192.168.1.128/25", "2001:db8:abcd::/48");
    const check = (text: string): boolean => inNetworks(allowed, parseClientIp(text) ?? fail(text));
    expect(check("10.255.0.1")).toBe(true);
    expect(check("::ffff:10.1.1.1")).toBe(true);
    expect(check("11.0.0.1")).toBe(false);
    expect(check("192.168.1.200")).toBe(true);
    expect(check("192.168.1.100")).toBe(false);
    expect(check("2001:db8:abcd:12::1")).toBe(true);
    expect(check("2001:db8:abce::1")).toBe(false);
    expect(check("::a00:1")).toBe(false);
  });

  it("reads a bare address as that one host, and 0.0.0.0/0 as every IPv4 address", () => {
    const host = networks("127.0.0.1", "::1");
    expect(inNetworks(host, parseClientIp("127.0.0.1") ?? fail(""))).toBe(true);
    expect(inNetworks(host, parseClientIp("127.0.0.2") ?? fail(""))).toBe(false);
    expect(inNetworks(host, parseClientIp("::1") ?? fail(""))).toBe(true);
    expect(inNetworks(networks("0.0.0.0/0"), parseClientIp("8.8.8.8") ?? fail(""))).toBe(true);
  });

  it("names the first entry that is neither an address nor a CIDR", () => {
    expect(parseNetworks(["10.0.0.0/8", "10.0.0.0/33", "nope"])).toEqual({ ok: false, entry: "10.0.0.0/33" });
  });
});

function fail(text: string): never {
  throw new Error(`not an address: ${text}`);
}
