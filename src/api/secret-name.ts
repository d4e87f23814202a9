import type * as z from "zod";
import type { CelRule } from "./kubernetes.js";
import { DNS1123_SUBDOMAIN_MAX, dns1123Subdomain } from "./meta.js";

// Every kind writes its Secret to spec.secretName, by default `<metadata.name>-credentials`.
const DEFAULT_SECRET_SUFFIX = "-credentials";

export function defaultSecretName(resourceName: string): string {
  return `${resourceName}${DEFAULT_SECRET_SUFFIX}`;
}

/** The Secret an object's credential is issued into: spec.secretName, or the default. */
export function issuedSecretName(object: { metadata: { name?: string }; spec: { secretName?: string } }): string {
  return object.spec.secretName ?? defaultSecretName(object.metadata.name ?? "");
}

export const secretName = dns1123Subdomain;

// Object names are already DNS-1123 subdomains, so the default Secret name is valid exactly when
// it is short enough. Refusing a longer name when spec.secretName is unset surfaces the problem
// at apply time rather than as a key that can never be issued.
const MAX_NAME_FOR_DEFAULT = DNS1123_SUBDOMAIN_MAX - DEFAULT_SECRET_SUFFIX.length;
const NAME_TOO_LONG = `metadata.name must be at most ${MAX_NAME_FOR_DEFAULT} characters when spec.secretName is unset, so that the default Secret name <name>${DEFAULT_SECRET_SUFFIX} is valid`;

// Placed at the object root: only there can a rule see both metadata.name and the spec.
export const defaultSecretNameFits: CelRule = {
  rule: `has(self.spec.secretName) || self.metadata.name.size() <= ${MAX_NAME_FOR_DEFAULT}`,
  message: NAME_TOO_LONG,
};

interface NamedWithSecret {
  readonly metadata: { readonly name?: string | undefined };
  readonly spec: { readonly secretName?: string | undefined };
}

// The runtime twin of defaultSecretNameFits.
export function checkDefaultSecretName(resource: NamedWithSecret, ctx: z.RefinementCtx): void {
  const name = resource.metadata.name;
  if (resource.spec.secretName !== undefined || name === undefined) return;
  if (defaultSecretName(name).length > DNS1123_SUBDOMAIN_MAX) {
    ctx.addIssue({
      code: "custom",
      message: NAME_TOO_LONG,
      path: ["metadata", "name"],
      params: { rule: "defaultSecretNameFits" },
    });
  }
}
