import { describe, expect, it } from "vitest";
import { isMasked, parseCidr, parseIp } from "../../../src/api/ip.js";

// Cases follow what Go's net/netip, and so the API server's isIP()/isCIDR(), accept.
describe("IP address parsing", () => {
  it.each([
    ["a dotted-quad IPv4 address", "203.0.113.7", [203, 0, 113, 7]],
    ["the IPv4 unspecified address", "0.0.0.0", [0, 0, 0, 0]],
    ["a compressed IPv6 address", "2001:db8::1", [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1]],
    ["an IPv6 address in full", "1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ["upper-case hex digits", "2001:DB8::", [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(12).fill(0)]],
    ["the IPv6 unspecified address", "::", Array<number>(16).fill(0)],
    ["an embedded IPv4 address in a translation prefix", "64:ff9b::192.0.2.1", [0, 0x64, 0xff, 0x9b, ...Array<number>(8).fill(0), 192, 0, 2, 1]],
    ["\"::\" standing for a single zero group", "1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
  ])("accepts %s", (_what, text, bytes) => {
    expect(parseIp(text)).toEqual(Uint8Array.from(bytes));
  });

  it.each([
    ["an IPv4 octet with a leading zero", "010.0.0.1"],
    ["an IPv4 octet above 255", "256.0.0.1"],
    ["three IPv4 octets", "10.0.1"],
    ["an IPv6 zone", "fe80::1%eth0"],
    ["an IPv4-mapped IPv6 address", "::ffff:192.0.2.1"],
    ["an IPv4-mapped IPv6 address written in hex", "::ffff:c000:201"],
    ["two \"::\"", "1::2::3"],
    ["\"::\" standing for no group at all", "1:2:3:4::5:6:7:8"],
    ["nine groups", "1:2:3:4:5:6:7:8:9"],
    ["seven groups without \"::\"", "1:2:3:4:5:6:7"],
    ["a five-digit group", "12345::"],
    ["an embedded IPv4 address before the end", "::1.2.3.4:1"],
    ["a leading single colon", ":1::"],
    ["surrounding spaces", " 10.0.0.1"],
    ["an empty string", ""],
  ])("refuses %s", (_what, text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe("CIDR parsing", () => {
  it("reads the address and the prefix length", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: Uint8Array.from([10, 0, 0, 0]), prefixLength: 8 });
    expect(parseCidr("2001:db8::/128")?.prefixLength).toBe(128);
    expect(parseCidr("0.0.0.0/0")?.prefixLength).toBe(0);
  });

  it.each([
    ["a bare address", "10.0.0.0"],
    ["an IPv4 prefix longer than 32", "10.0.0.0/33"],
    ["an IPv6 prefix longer than 128", "2001:db8::/129"],
    ["a prefix length with a leading zero", "10.0.0.0/08"],
    ["a signed prefix length", "10.0.0.0/+8"],
    ["two slashes", "10.0.0.0/8/8"],
    ["an IPv4-mapped IPv6 network", "::ffff:0:0/96"],
  ])("refuses %s", (_what, text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it.each([
    ["10.0.0.0/8", true],
    ["10.0.0.1/8", false],
    ["10.0.0.128/25", true],
    ["10.0.0.64/25", false],
    ["0.0.0.0/0", true],
    ["203.0.113.7/32", true],
    ["2001:db8::/32", true],
    ["2001:db8::1/64", false],
    ["2001:db8:8000::/33", true],
  ])("tells whether %s names its network address (%s)", (text, masked) => {
    const parsed = parseCidr(text);
    if (parsed === undefined) throw new Error(`${text} should parse`);
    expect(isMasked(parsed)).toBe(masked);
  });
});
