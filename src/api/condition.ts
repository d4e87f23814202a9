import * as z from "zod";
import { mapList } from "./lists.js";
import { timestamp } from "./meta.js";

// The shape and limits of metav1.Condition, so that conditions written by keygate are read by
// generic tooling (kubectl wait, status dashboards) exactly as built-in ones.
const CONDITION_TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

export const conditionStatus = z.enum(["True", "False", "Unknown"]);
export type ConditionStatus = z.infer<typeof conditionStatus>;

export const condition = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(CONDITION_TYPE, "must be a CamelCase name, optionally prefixed by a DNS subdomain and '/'")
      .describe("Type of the condition, such as Ready."),
    status: conditionStatus.describe("Whether the condition holds: True, False or Unknown."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("metadata.generation the condition was computed from."),
    lastTransitionTime: timestamp.describe("When status last changed."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(CONDITION_REASON, "must be a CamelCase word")
      .describe("Machine-readable CamelCase reason for the last transition."),
    message: z.string().max(32768).describe("Human-readable details; may be empty."),
  })
  .describe("A condition in the form of the Kubernetes API conventions.");
export type Condition = z.infer<typeof condition>;

// Keyed by type, as metav1.Condition lists are, so that server-side apply merges one condition
// without replacing the others.
export const conditions = mapList(condition, "type");
