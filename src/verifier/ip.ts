import { isIPv6 } from "node:net";
import { type Cidr, parseCidr, parseIp } from "../api/ip.js";

/** A client address in one canonical spelling: the one matched against CIDRs and written to status. */
export interface ClientIp {
  readonly bytes: Uint8Array;
  readonly text: string;
}

// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the same peer must match the same
// IPv4 CIDRs and be recorded the same way whichever socket it came through.
const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;

function ipv4(text: string): ClientIp | undefined {
  const bytes = parseIp(text);
  return bytes?.length === 4 ? { bytes, text } : undefined;
}

function fromMappedHex(high: string, low: string): ClientIp | undefined {
  const value = (Number.parseInt(high, 16) << 16) | Number.parseInt(low, 16);
  return ipv4([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join("."));
}

// The URL parser writes IPv6 in its RFC 5952 form (lowercase, longest zero run compressed).
function ipv6(text: string): ClientIp | undefined {
  if (!isIPv6(text)) return undefined;
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_HEX.exec(canonical);
  if (mapped) return fromMappedHex(mapped[1] ?? "", mapped[2] ?? "");
  const bytes = parseIp(canonical);
  return bytes ? { bytes, text: canonical } : undefined;
}

/** Drops what may surround an address in a socket or X-Forwarded-For entry: brackets, a port, a zone. */
function bareAddress(text: string): string {
  const trimmed = text.trim();
  const bracketed = BRACKETED.exec(trimmed);
  const withPort = IPV4_WITH_PORT.exec(trimmed);
  const bare = bracketed?.[1] ?? withPort?.[1] ?? trimmed;
  const zone = bare.indexOf("%");
  return zone < 0 ? bare : bare.slice(0, zone);
}

/** Parses and normalises a client address; undefined when it is not one. */
export function parseClientIp(text: string): ClientIp | undefined {
  const bare = bareAddress(text);
  const mapped = MAPPED_DOTTED.exec(bare);
  if (mapped) return ipv4(mapped[1] ?? "");
  return bare.includes(":") ? ipv6(bare) : ipv4(bare);
}

export function cidrContains(cidr: Cidr, ip: Uint8Array): boolean {
  if (cidr.address.length !== ip.length) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((cidr.address[i] ?? 0) & mask) !== ((ip[i] ?? 0) & mask)) return false;
  }
  return true;
}

export type Networks = readonly Cidr[];

export function inNetworks(networks: Networks, ip: ClientIp): boolean {
  return networks.some((cidr) => cidrContains(cidr, ip.bytes));
}

export type NetworksResult = { readonly ok: true; readonly networks: Networks } | { readonly ok: false; readonly entry: string };

/** Configured networks: CIDRs, or bare addresses meaning just that host. */
export function parseNetworks(entries: readonly string[]): NetworksResult {
  const networks: Cidr[] = [];
  for (const entry of entries) {
    const host = entry.includes("/") ? undefined : parseClientIp(entry);
    const cidr = host ? { address: host.bytes, prefixLength: host.bytes.length * 8 } : parseCidr(entry.trim());
    if (!cidr) return { ok: false, entry };
    networks.push(cidr);
  }
  return { ok: true, networks };
}

// A policy entry that does not parse (the API server validates them, so only a bypassed or
// future schema could produce one) allows nothing, rather than being dropped from the list.
/** A network policy's CIDRs; undefined: no policy. */
export function networksOf(cidrs: readonly string[] | undefined): Networks | undefined {
  if (cidrs === undefined) return undefined;
  const parsed = cidrs.map((text) => parseCidr(text));
  return parsed.every((cidr) => cidr !== undefined) ? parsed : [];
}
