import * as z from "zod";
import { isMasked, parseCidr, parseIp } from "./ip.js";
import { withKubernetes } from "./kubernetes.js";

// Longest accepted texts: a full IPv6 address with an embedded IPv4 one
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"), plus "/128" for a CIDR. The bounds also let
// the API server estimate the cost of the CEL rules below.
const IP_MAX_LENGTH = 45;
const CIDR_MAX_LENGTH = IP_MAX_LENGTH + 4;

const IP_MESSAGE = "must be an IPv4 or IPv6 address without zone, not an IPv4-mapped IPv6 address";
const CIDR_MESSAGE = "must be an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32";
const MASKED_MESSAGE = "must name its network address, with no bit set after the prefix length (10.0.0.0/8, not 10.0.0.1/8)";

// Characters and shape only: it never refuses a valid CIDR, and it lets offline validators that
// ignore CEL (IDE plugins, manifest linters in CI) catch gross mistakes.
const CIDR_SHAPE = /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/;

export const ipAddress = withKubernetes(
  z
    .string()
    .max(IP_MAX_LENGTH)
    .refine((text) => parseIp(text) !== undefined, { message: IP_MESSAGE, params: { rule: "ip" } }),
  { "x-kubernetes-validations": [{ rule: "isIP(self)", message: IP_MESSAGE }] },
);

// A network written as its masked prefix: an allow-list entry with host bits set is far more
// often a typo than a deliberate range, and refusing it keeps the stored policy unambiguous.
// One issue per value: a value that is no CIDR is not also reported as unmasked.
function checkCidr(text: string, ctx: z.RefinementCtx): void {
  const parsed = parseCidr(text);
  if (parsed === undefined) {
    ctx.addIssue({ code: "custom", message: CIDR_MESSAGE, params: { rule: "cidr" } });
  } else if (!isMasked(parsed)) {
    ctx.addIssue({ code: "custom", message: MASKED_MESSAGE, params: { rule: "maskedCIDR" } });
  }
}

// A network written as its masked prefix: an allow-list entry with host bits set is far more
// often a typo than a deliberate range, and refusing it keeps the stored policy unambiguous.
export const cidr = withKubernetes(
  z.string().max(CIDR_MAX_LENGTH).regex(CIDR_SHAPE, { message: CIDR_MESSAGE, abort: true }).superRefine(checkCidr),
  {
    "x-kubernetes-validations": [
      { rule: "isCIDR(self)", message: CIDR_MESSAGE },
      { rule: "!isCIDR(self) || cidr(self) == cidr(self).masked()", message: MASKED_MESSAGE },
    ],
  },
);
