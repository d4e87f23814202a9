// IP address and CIDR parsing with the rules of Go's net/netip, which the API server's CEL
// `isIP` and `isCIDR` apply, so that a value passes the runtime check exactly when it passes the
// CRD: dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 without a zone, and no
// IPv4-mapped IPv6 address (Kubernetes refuses those as they hide an IPv4 address in an IPv6 one).

export interface Cidr {
  readonly address: Uint8Array;
  readonly prefixLength: number;
}

const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIPv4(text: string): number[] | undefined {
  const octets = text.split(".");
  const valid = octets.length === 4 && octets.every((octet) => DECIMAL.test(octet) && Number(octet) <= 255);
  return valid ? octets.map(Number) : undefined;
}

// The bytes of the colon-separated groups on one side of "::". An embedded IPv4 address may
// only end the whole address, so only the right-hand side may end with one.
function parseGroups(text: string, mayEndWithIPv4: boolean): number[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  const bytes: number[] = [];
  for (const [index, group] of groups.entries()) {
    const last = index === groups.length - 1;
    if (last && mayEndWithIPv4 && group.includes(".")) {
      const ipv4 = parseIPv4(group);
      if (ipv4 === undefined) return undefined;
      bytes.push(...ipv4);
    } else if (HEX_GROUP.test(group)) {
      const value = Number.parseInt(group, 16);
      bytes.push(value >> 8, value & 0xff);
    } else {
      return undefined;
    }
  }
  return bytes;
}

function parseIPv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const [head = "", tail] = halves;
  if (tail === undefined) {
    const all = parseGroups(head, true);
    return all?.length === 16 ? all : undefined;
  }
  const left = parseGroups(head, false);
  const right = parseGroups(tail, true);
  // "::" stands for at least one group of zeros.
  if (left === undefined || right === undefined || left.length + right.length > 14) return undefined;
  return [...left, ...Array<number>(16 - left.length - right.length).fill(0), ...right];
}

function isIPv4Mapped(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

// The 4 or 16 bytes of an address, or undefined when Kubernetes would not accept it.
export function parseIp(text: string): Uint8Array | undefined {
  const bytes = text.includes(":") ? parseIPv6(text) : parseIPv4(text);
  return bytes === undefined || isIPv4Mapped(bytes) ? undefined : Uint8Array.from(bytes);
}

export function parseCidr(text: string): Cidr | undefined {
  const parts = text.split("/");
  if (parts.length !== 2) return undefined;
  const [addressText = "", lengthText = ""] = parts;
  const address = parseIp(addressText);
  if (address === undefined || !DECIMAL.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  return prefixLength <= address.length * 8 ? { address, prefixLength } : undefined;
}

// True when no address bit is set after the prefix, i.e. the CIDR names its network address.
export function isMasked({ address, prefixLength }: Cidr): boolean {
  return address.every((byte, index) => {
    const hostBits = Math.min(8, Math.max(0, (index + 1) * 8 - prefixLength));
    return (byte & ((1 << hostBits) - 1)) === 0;
  });
}
