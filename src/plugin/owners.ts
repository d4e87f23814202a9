import type { AccessKey } from "../api/accesskey.js";
import type { RecycledAccessKey } from "../api/recycledaccesskey.js";
import type { TemporaryCredential } from "../api/temporarycredential.js";
import type { KeygateObject } from "./resources.js";

/** Whose an access key id is, as `whois` answers it. */
export interface KeyOwner {
  readonly accessKeyId: string;
  readonly namespace: string;
  readonly user: string;
  /** `accesskey/<name>`, `temporarycredential/<name>` or `recycledaccesskey/<name>`. */
  readonly object: string;
  /** Active, Inactive, the session's expiry, or that the key is deleted and until when it is restorable. */
  readonly state: string;
}

type Holder = AccessKey | TemporaryCredential | RecycledAccessKey;

function idOf(holder: Holder): string | undefined {
  return holder.kind === "RecycledAccessKey" ? holder.spec.accessKeyId : holder.status?.accessKeyId;
}

function stateOf(holder: Holder): string {
  if (holder.kind === "RecycledAccessKey") return `deleted, restorable until ${holder.spec.expiresAt}`;
  if (holder.kind === "TemporaryCredential") {
    const expiration = holder.status?.expiration;
    return expiration === undefined ? "temporary" : `temporary, expires ${expiration}`;
  }
  return holder.status?.state ?? holder.spec.state;
}

/** The owner of `id` among objects that may hold it; undefined when none does. */
export function ownerOf(id: string, objects: readonly KeygateObject[]): KeyOwner | undefined {
  const holder = (objects as readonly Holder[]).find((object) => idOf(object) === id);
  if (!holder) return undefined;
  return {
    accessKeyId: id,
    namespace: holder.metadata.namespace ?? "",
    user: holder.spec.user,
    object: `${holder.kind.toLowerCase()}/${holder.metadata.name ?? ""}`,
    state: stateOf(holder),
  };
}
