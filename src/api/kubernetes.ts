import * as z from "zod";

// A CEL rule as the API server reads it from `x-kubernetes-validations`. `fieldPath` makes the
// error name the offending field instead of the node that carries the rule.
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
}

// The vendor extensions a schema node may carry into the CRD. They are keyed exactly as in the
// CRD so the generator can copy them without a mapping that could drift.
export interface KubernetesExtensions {
  readonly "x-kubernetes-validations"?: readonly CelRule[];
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
}

// Extensions live in their own registry, not in zod's global metadata, so that JSON Schema made
// for any other purpose does not pick up Kubernetes-only keywords.
export const kubernetesExtensions = z.registry<KubernetesExtensions>();

// Attaches Kubernetes extensions to a schema where it is declared; zod carries them over to
// schemas derived from it (`.describe()`, `.optional()`, …).
export function withKubernetes<T extends z.ZodType>(schema: T, extensions: KubernetesExtensions): T {
  kubernetesExtensions.add(schema, extensions);
  return schema;
}

// A transition rule: on update, a required field keeps its value.
export function immutable(field: string): CelRule {
  return {
    rule: `self.${field} == oldSelf.${field}`,
    message: `${field} is immutable`,
    fieldPath: `.${field}`,
  };
}

// A transition rule for an optional field. A rule placed on the field itself runs only when the
// field exists in both the old and the new object, so setting or clearing it after creation
// would slip through; placed on the parent, the rule sees both presences.
export function immutableOptional(field: string): CelRule {
  return {
    rule:
      `has(self.${field}) == has(oldSelf.${field}) && ` +
      `(!has(self.${field}) || self.${field} == oldSelf.${field})`,
    message: `${field} is immutable: it can be neither changed nor set or removed after creation`,
    fieldPath: `.${field}`,
  };
}
