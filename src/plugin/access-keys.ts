import type { AccessKey } from "../api/accesskey.js";
import { findCondition } from "../runtime/conditions.js";
import type { KeygateObject } from "./resources.js";
import type { Progress } from "./watch.js";

// Ready=False reasons that a key gets out of by itself; any other is the end of the wait.
const STILL_ISSUING = new Set(["Pending"]);

/** The API server's object as an AccessKey: its CRD schema has validated it. */
export function asAccessKey(object: KeygateObject): AccessKey {
  return object as AccessKey;
}

/** An issued key: its public id, when it was issued, and the Secret that holds the pair. */
export interface IssuedKeyRef {
  readonly accessKeyId: string;
  readonly createdAt?: string;
  readonly secretName: string;
}

function issuedRef(key: AccessKey): IssuedKeyRef | undefined {
  const secretName = key.status?.secretRef?.name;
  const accessKeyId = key.status?.accessKeyId;
  if (secretName === undefined || accessKeyId === undefined) return undefined;
  return { accessKeyId, createdAt: key.status?.createdAt, secretName };
}

/** Where a new or restored key stands: issued, refused (the controller's message), or not yet. */
export function issuance(object: KeygateObject): Progress<IssuedKeyRef> {
  const key = asAccessKey(object);
  const ready = findCondition(key.status?.conditions ?? [], "Ready");
  // A condition of an older generation says nothing about this one.
  if (ready === undefined || (ready.observedGeneration ?? 0) < (key.metadata.generation ?? 0)) return undefined;
  const issued = issuedRef(key);
  if (ready.status === "True") return issued && { done: issued };
  if (STILL_ISSUING.has(ready.reason)) return undefined;
  return { failed: `accesskey/${key.metadata.name} was not issued (${ready.reason}): ${ready.message}` };
}

const DNS_LABEL_UNSAFE = /[^a-z0-9-]+/g;
// Leaves room for generateName's 5 random characters and the issued Secret's "-credentials".
const NAME_PREFIX_MAX = 40;

/** generateName for a user's key: the user name made a DNS label (`Alice.Smith@x` → `alice-smith-x-`). */
export function keyNamePrefix(user: string): string {
  const label = user.toLowerCase().replace(DNS_LABEL_UNSAFE, "-").slice(0, NAME_PREFIX_MAX).replace(/^-+|-+$/g, "");
  return label === "" ? "key-" : `${label}-`;
}
