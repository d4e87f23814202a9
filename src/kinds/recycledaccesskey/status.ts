import type { RecycledAccessKey, RecycledAccessKeyStatus } from "../../api/recycledaccesskey.js";
import { asJson } from "../../json.js";
import { setCondition } from "../../runtime/conditions.js";
import { READY } from "../../runtime/reconcile.js";
import type { BinOutcome } from "./decide.js";

/** The status a bin object shows: the Ready condition of the outcome. */
export function desiredStatus(bin: RecycledAccessKey, outcome: BinOutcome, now: Date): RecycledAccessKeyStatus {
  const generation = bin.metadata.generation ?? 0;
  const ready = { type: READY, status: outcome.ready ? "True" : "False", reason: outcome.reason, message: outcome.message, observedGeneration: generation } as const;
  return asJson({ conditions: setCondition(bin.status?.conditions ?? [], ready, now), observedGeneration: generation });
}
