import type { AccessKey } from "../api/accesskey.js";
import { ROTATING_FROM_ANNOTATION } from "../labels.js";

// The rotation of docs/accesskeys.md as steps decided from the user's keys alone: a second run
// reads the same keys and continues where the first stopped.

export interface RotationInput {
  readonly user: string;
  /** The user's AccessKeys, as the API server lists them. */
  readonly keys: readonly AccessKey[];
  readonly now: number;
  readonly quietForMs: number;
  /** Do not wait for the old key's last use to go quiet. */
  readonly force: boolean;
}

export type RotationStep =
  | { readonly step: "refuse"; readonly message: string }
  | { readonly step: "create"; readonly old: AccessKey }
  | { readonly step: "wait-quiet"; readonly old: AccessKey; readonly fresh: AccessKey; readonly until: number }
  | { readonly step: "deactivate"; readonly old: AccessKey; readonly fresh: AccessKey }
  | { readonly step: "delete"; readonly old: AccessKey; readonly fresh: AccessKey }
  | { readonly step: "finish"; readonly fresh: AccessKey };

const nameOf = (key: AccessKey): string => key.metadata.name ?? "";
const idOf = (key: AccessKey): string => key.status?.accessKeyId ?? "(not issued)";
const lastUsedMs = (key: AccessKey): number => Date.parse(key.status?.lastUsed?.time ?? key.status?.createdAt ?? key.metadata.creationTimestamp ?? "") || 0;

function describeKey(key: AccessKey): string {
  return `${idOf(key)} (accesskey/${nameOf(key)}, ${key.spec.state}, last used ${key.status?.lastUsed?.time ?? "never"})`;
}

// The one to remove: an Inactive key first (it serves nobody), else the one used least recently.
function toRemove(keys: readonly AccessKey[]): AccessKey | undefined {
  const inactive = keys.find((key) => key.spec.state === "Inactive");
  return inactive ?? [...keys].sort((a, b) => lastUsedMs(a) - lastUsedMs(b))[0];
}

function refuseTwo(user: string, keys: readonly AccessKey[]): RotationStep {
  const remove = toRemove(keys);
  const how = remove === undefined ? "" : `: remove ${idOf(remove)} first (kubectl keygate delete ${nameOf(remove)}), then rotate the other`;
  return { step: "refuse", message: `user ${user} already has two access keys, ${keys.map(describeKey).join(" and ")}${how}` };
}

/** The key this run left off at: the new key of a rotation, and the key it replaces if that still exists. */
function rotationInProgress(keys: readonly AccessKey[]): { fresh: AccessKey; old: AccessKey | undefined } | undefined {
  const fresh = keys.find((key) => key.metadata.annotations?.[ROTATING_FROM_ANNOTATION] !== undefined);
  if (fresh === undefined) return undefined;
  const oldName = fresh.metadata.annotations?.[ROTATING_FROM_ANNOTATION];
  return { fresh, old: keys.find((key) => nameOf(key) === oldName) };
}

function retire(input: RotationInput, old: AccessKey, fresh: AccessKey): RotationStep {
  // The old key is retired only once its successor works.
  if (fresh.status?.accessKeyId === undefined) {
    return {
      step: "refuse",
      message: `the new key accesskey/${nameOf(fresh)} of this rotation was not issued (see kubectl describe accesskey ${nameOf(fresh)}); ${idOf(old)} is kept: delete accesskey/${nameOf(fresh)} and rotate again`,
    };
  }
  if (old.spec.state === "Inactive") return { step: "delete", old, fresh };
  const until = lastUsedMs(old) + input.quietForMs;
  if (!input.force && input.now < until) return { step: "wait-quiet", old, fresh, until };
  return { step: "deactivate", old, fresh };
}

/** The next step of rotating `user`'s key. */
export function nextRotationStep(input: RotationInput): RotationStep {
  const { user, keys } = input;
  const progress = rotationInProgress(keys);
  if (progress?.old === undefined && progress !== undefined) return { step: "finish", fresh: progress.fresh };
  if (progress?.old !== undefined) return retire(input, progress.old, progress.fresh);
  if (keys.length >= 2) return refuseTwo(user, keys);
  const [old] = keys;
  if (old === undefined) return { step: "refuse", message: `user ${user} has no access key to rotate: create one with kubectl keygate create-key ${user}` };
  return { step: "create", old };
}
