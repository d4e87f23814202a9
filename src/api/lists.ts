import * as z from "zod";
import { withKubernetes } from "./kubernetes.js";

// Reports every element whose key already appeared earlier, at that element's index, as the API
// server does for set and map lists.
function refuseDuplicates<T>(keyOf: (item: T) => unknown, what: string) {
  return (items: T[], ctx: z.RefinementCtx): void => {
    const seen = new Set<unknown>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) {
        ctx.addIssue({ code: "custom", message: `duplicate ${what}`, path: [index], params: { rule: "unique" } });
      }
      seen.add(key);
    });
  };
}

// A list of scalars with set semantics: the CRD marks it so, and the runtime check refuses the
// same duplicates the API server would.
export function setList<T extends z.ZodType>(item: T) {
  return withKubernetes(
    z.array(item).superRefine(refuseDuplicates((value: z.output<T>) => value, "value")),
    { "x-kubernetes-list-type": "set" },
  );
}

// A list of objects keyed by one field, merged per key by server-side apply.
export function mapList<T extends z.ZodObject, K extends keyof z.output<T> & string>(item: T, key: K) {
  return withKubernetes(
    z.array(item).superRefine(refuseDuplicates((value: z.output<T>) => value[key], key)),
    { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key] },
  );
}
