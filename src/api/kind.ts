import type * as z from "zod";
import type { CelRule } from "./kubernetes.js";

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description?: string;
  // 0 shows in `kubectl get`; higher only with `-o wide`.
  readonly priority?: number;
}

// Everything the CRD of one kind needs beyond its spec and status schemas, declared beside them
// so that a kind is defined in one place.
export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  // Rules on the whole object: the only place where metadata.name and the spec meet.
  readonly validations: readonly CelRule[];
  readonly printerColumns: readonly PrinterColumn[];
  // Fields usable in field selectors, e.g. `kubectl get ak --field-selector spec.user=alice`.
  readonly selectableFields: readonly string[];
}
