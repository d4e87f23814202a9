import type { KindSummary } from "../crdgen/kinds-doc.js";
import { kinds } from "./registry.js";

/** The registry as the generated reference table reads it. */
export function kindSummaries(): KindSummary[] {
  return kinds.map((kind) => ({ definition: kind.definition, admissionOperations: kind.admission?.operations ?? [], secretLabel: kind.secretLabel }));
}
