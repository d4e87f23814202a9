import * as z from "zod";
import { conditions } from "./condition.js";
import type { KindDefinition } from "./kind.js";
import { setList } from "./lists.js";
import { resourceSchema } from "./meta.js";
import { cidr } from "./network.js";
import { parseResource, type ParseResult } from "./parse.js";

export const ACCOUNT_POLICY_KIND = "AccountPolicy";
export const ACCOUNT_POLICY_PLURAL = "accountpolicies";
/** The one AccountPolicy a namespace (an account) has: any other name is refused. */
export const ACCOUNT_POLICY_NAME = "default";

const MAX_SOURCE_CIDRS = 64;
// A sum of whole units, as parseDuration reads it: "90d", "12h", "1d12h". Bounded so that the
// API server can estimate the rule's cost and a typo of many digits is caught.
const DURATION = /^([0-9]{1,5}[smhd]){1,4}$/;

export const keyManagement = z.enum(["SelfService", "AdminsOnly"]);
export type KeyManagement = z.infer<typeof keyManagement>;

export const accountPolicySpec = z
  .strictObject({
    keyManagement: keyManagement
      .default("SelfService")
      .describe(
        "SelfService: users create, enable, disable and delete their own access keys. AdminsOnly (access key protection): " +
          "only those granted the verb manage on users/<name> in iam.keygate.dev may.",
      ),
    allowedSourceCIDRs: setList(cidr)
      .max(MAX_SOURCE_CIDRS)
      .describe("When set, every key of the account is accepted only from these networks, in addition to each key's own list.")
      .optional(),
    requireMfa: z
      .boolean()
      .default(false)
      .describe("Temporary credentials of a user with a bound MFA device must be requested with a code of it."),
    operationProtection: z
      .boolean()
      .default(false)
      .describe(
        "Creating an access key or changing its state, adding an MFA device or answering its ceremony, and confirming the " +
          "removal of a bound one need a fresh MFA code of the acting user, given in the annotation iam.keygate.dev/mfa-code; " +
          "it is checked once at admission and never stored.",
      ),
    maxKeyAge: z
      .string()
      .max(24)
      .regex(DURATION, "must be a duration such as 90d, 12h or 1d12h")
      .describe("Access keys older than this are marked Stale, with a Warning Event and a metric (AWS advises 90d).")
      .optional(),
  })
  .describe("Settings of the account: every user of this namespace.");
export type AccountPolicySpec = z.infer<typeof accountPolicySpec>;

const count = z.int().min(0);

export const accountPolicyStatus = z
  .object({
    users: count.describe("Users with at least one access key, MFA device or live session.").optional(),
    accessKeys: z
      .object({
        active: count.describe("Active access keys."),
        inactive: count.describe("Inactive access keys."),
        stale: count.describe("Access keys older than maxKeyAge."),
      })
      .describe("Access keys by state.")
      .optional(),
    boundMfaDevices: count.describe("MFA devices bound to their user.").optional(),
    liveSessions: count.describe("Temporary credentials issued and not yet expired.").optional(),
    conditions: conditions.describe("Ready, with a reason, per the Kubernetes API conventions.").optional(),
    observedGeneration: z.int().min(0).describe("metadata.generation the status was computed from.").optional(),
  })
  .describe("Observed state of the account.");
export type AccountPolicyStatus = z.infer<typeof accountPolicyStatus>;

const NAME_MESSAGE = `an AccountPolicy must be named ${ACCOUNT_POLICY_NAME}: a namespace has one`;

export const accountPolicy = resourceSchema(ACCOUNT_POLICY_KIND, accountPolicySpec, accountPolicyStatus).superRefine((policy, ctx) => {
  const name = policy.metadata.name;
  if (name !== undefined && name !== ACCOUNT_POLICY_NAME) {
    ctx.addIssue({ code: "custom", message: NAME_MESSAGE, path: ["metadata", "name"], params: { rule: "accountPolicyName" } });
  }
});
export type AccountPolicy = z.infer<typeof accountPolicy>;

export function parseAccountPolicy(input: unknown): ParseResult<AccountPolicy> {
  return parseResource(ACCOUNT_POLICY_KIND, accountPolicy, input);
}

export const accountPolicyDefinition: KindDefinition = {
  kind: ACCOUNT_POLICY_KIND,
  plural: ACCOUNT_POLICY_PLURAL,
  shortNames: ["acp"],
  description: "The settings of the account this namespace is: key management, network policy, MFA rules, key age.",
  spec: accountPolicySpec,
  status: accountPolicyStatus,
  validations: [{ rule: `self.metadata.name == '${ACCOUNT_POLICY_NAME}'`, message: NAME_MESSAGE }],
  printerColumns: [
    { name: "Keys", type: "string", jsonPath: ".spec.keyManagement" },
    { name: "MFA", type: "boolean", jsonPath: ".spec.requireMfa" },
    { name: "Protected", type: "boolean", jsonPath: ".spec.operationProtection" },
    { name: "Max Key Age", type: "string", jsonPath: ".spec.maxKeyAge" },
    { name: "Users", type: "integer", jsonPath: ".status.users" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  selectableFields: [],
};

/** Anything that finds an object by namespace and name, such as an informer's cache. */
export interface ObjectLookup {
  get(namespace: string, name: string): unknown;
}

/** The namespace's AccountPolicy; undefined when it has none, or one that does not parse (no policy is applied then). */
export function accountPolicyIn(policies: ObjectLookup, namespace: string): AccountPolicy | undefined {
  const object = policies.get(namespace, ACCOUNT_POLICY_NAME);
  if (object === undefined) return undefined;
  const parsed = parseAccountPolicy(object);
  return parsed.ok ? parsed.value : undefined;
}

/** The condition an AccessKey older than its account's maxKeyAge carries (True), and the reason. */
export const STALE_CONDITION = "Stale";
export const MAX_KEY_AGE_EXCEEDED = "MaxKeyAgeExceeded";
