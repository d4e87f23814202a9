import type { KubernetesObject } from "@kubernetes/client-node";
import { TEMPORARY_ACCESS_KEY_ID } from "../credentials/format.js";
import type { KeyOwner } from "./key-table.js";

interface SessionOwner {
  readonly namespace: string;
  readonly user: string;
}

function identityOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/**
 * Whose each temporary access key id is, from the TemporaryCredentials' status.accessKeyId: the
 * only place a session's id can be read without its token. Nothing else of a session is kept.
 * A session is known from its issue until its TemporaryCredential is removed (after the
 * retention that follows its expiry).
 */
export class SessionOwners {
  private readonly byId = new Map<string, SessionOwner>();
  // Kept by the object's namespace/name too: a delete found by a relist brings no status.
  private readonly idByObject = new Map<string, string>();

  put(object: KubernetesObject): void {
    const status = (object as { status?: { accessKeyId?: unknown } }).status;
    const spec = (object as { spec?: { user?: unknown } }).spec;
    const id = status?.accessKeyId;
    const user = spec?.user;
    if (typeof id !== "string" || !TEMPORARY_ACCESS_KEY_ID.test(id) || typeof user !== "string") {
      this.remove(object);
      return;
    }
    const identity = identityOf(object);
    const previous = this.idByObject.get(identity);
    if (previous !== undefined && previous !== id) this.byId.delete(previous);
    this.idByObject.set(identity, id);
    this.byId.set(id, { namespace: object.metadata?.namespace ?? "", user });
  }

  remove(object: KubernetesObject): void {
    const identity = identityOf(object);
    const id = this.idByObject.get(identity);
    this.idByObject.delete(identity);
    if (id !== undefined) this.byId.delete(id);
  }

  owner(accessKeyId: string): KeyOwner | undefined {
    const owner = this.byId.get(accessKeyId);
    return owner && { accessKeyId, namespace: owner.namespace, user: owner.user };
  }
}
