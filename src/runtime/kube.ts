import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { apiStatus, errorReason, isApiStatus } from "./errors.js";

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);

/** Requests on one keygate kind; every reconciler reads and writes its objects the same way. */
export class KindClient {
  constructor(
    private readonly custom: k8s.CustomObjectsApi,
    private readonly plural: string,
  ) {}

  // The live object, not the cache: a step just applied must be visible to the next decision.
  async read(namespace: string, name: string): Promise<k8s.KubernetesObject | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: this.plural,
        name,
      })) as k8s.KubernetesObject;
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  // A JSON patch guarded by the resourceVersion it was decided on: a concurrent writer makes it
  // fail with a conflict and the object is reconciled again, never a lost update.
  // The object as patched is answered, so the caller need not read it again.
  private async guardedPatch(raw: k8s.KubernetesObject, operation: { op: "add"; path: string; value: unknown }): Promise<k8s.KubernetesObject> {
    const { namespace = "", name = "", resourceVersion } = raw.metadata ?? {};
    const body = [{ op: "test", path: "/metadata/resourceVersion", value: resourceVersion }, operation];
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body },
      JSON_PATCH,
    )) as k8s.KubernetesObject;
  }

  setFinalizers(raw: k8s.KubernetesObject, finalizers: string[]): Promise<k8s.KubernetesObject> {
    return this.guardedPatch(raw, { op: "add", path: "/metadata/finalizers", value: finalizers });
  }

  /** Sets one annotation, guarded like every metadata change. */
  async setAnnotation(raw: k8s.KubernetesObject, key: string, value: string): Promise<k8s.KubernetesObject> {
    const annotations = raw.metadata?.annotations;
    // JSON pointer escaping: "~" is "~0" and "/" is "~1" in a key.
    const escaped = key.replace(/~/g, "~0").replace(/\//g, "~1");
    return this.guardedPatch(
      raw,
      annotations ? { op: "add", path: `/metadata/annotations/${escaped}`, value } : { op: "add", path: "/metadata/annotations", value: { [key]: value } },
    );
  }

  addFinalizer(raw: k8s.KubernetesObject, finalizer: string): Promise<k8s.KubernetesObject> {
    return this.setFinalizers(raw, [...(raw.metadata?.finalizers ?? []), finalizer]);
  }

  removeFinalizer(raw: k8s.KubernetesObject, finalizer: string): Promise<k8s.KubernetesObject> {
    return this.setFinalizers(raw, (raw.metadata?.finalizers ?? []).filter((f) => f !== finalizer));
  }

  /** Merges `fields` into status, leaving every other field as it is. */
  async patchStatus(raw: k8s.KubernetesObject, fields: Record<string, unknown>): Promise<void> {
    const { namespace = "", name = "" } = raw.metadata ?? {};
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body: { status: fields } },
      MERGE_PATCH,
    );
  }

  /** Creates the object; false when one of that name exists already (what it holds is for the caller to judge). */
  async create(namespace: string, body: object): Promise<boolean> {
    try {
      await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: this.plural, body });
      return true;
    } catch (error) {
      if (isApiStatus(error, 409)) return false;
      throw error;
    }
  }

  /** Deletes the object; one already gone is not an error. */
  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: this.plural, name });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }

  /**
   * Replaces status with `status` (a merge patch removes a field only when sent as null). Fields
   * in `othersOwn` that already exist are someone else's to update (the verifier's last use) and
   * are left out of the patch, so an older copy read here never overwrites a newer one.
   */
  async writeStatus(
    raw: k8s.KubernetesObject,
    previous: Record<string, unknown> | undefined,
    status: Record<string, unknown>,
    othersOwn: readonly string[] = [],
  ): Promise<void> {
    const { namespace = "", name = "" } = raw.metadata ?? {};
    const theirs = new Set(othersOwn.filter((field) => previous?.[field] !== undefined));
    const ours = (field: string): boolean => !theirs.has(field);
    const cleared = Object.fromEntries(Object.keys(previous ?? {}).filter(ours).map((field) => [field, null]));
    const patch = Object.fromEntries(Object.entries(status).filter(([field]) => ours(field)));
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body: { status: { ...cleared, ...patch } } },
      MERGE_PATCH,
    );
  }
}

export type SecretObservation = "absent" | "owned" | "foreign";

/** Ours means both: our label, and a controller reference to exactly this owner (by uid). */
export function isOwnedSecret(secret: k8s.V1Secret, ownerUid: string): boolean {
  const labelled = secret.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
  const controlled = (secret.metadata?.ownerReferences ?? []).some((ref) => ref.uid === ownerUid && ref.controller === true);
  return labelled && controlled;
}

/** Whether the namespace is being deleted (or gone): nothing new can be created in it. */
export async function namespaceTerminating(core: k8s.CoreV1Api, namespace: string): Promise<boolean> {
  try {
    const found = await core.readNamespace({ name: namespace });
    return found.metadata?.deletionTimestamp !== undefined || found.status?.phase === "Terminating";
  } catch (error) {
    if (isApiStatus(error, 404)) return true;
    throw error;
  }
}

/** The Secret, or undefined when there is none. */
export async function readSecret(core: k8s.CoreV1Api, namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (isApiStatus(error, 404)) return undefined;
    throw error;
  }
}

export function observationOf(secret: k8s.V1Secret | undefined, ownerUid: string): SecretObservation {
  if (!secret) return "absent";
  return isOwnedSecret(secret, ownerUid) ? "owned" : "foreign";
}

export async function observeSecret(core: k8s.CoreV1Api, namespace: string, name: string, ownerUid: string): Promise<SecretObservation> {
  return observationOf(await readSecret(core, namespace, name), ownerUid);
}

/**
 * Deletes a Secret only while it is ours, as read just before: the uid and resourceVersion
 * preconditions make a Secret replaced meanwhile fail the delete rather than go. False when there
 * was nothing of ours to delete.
 */
export async function deleteOwnedSecret(core: k8s.CoreV1Api, namespace: string, name: string, ownerUid: string): Promise<boolean> {
  const secret = await readSecret(core, namespace, name);
  if (!secret || !isOwnedSecret(secret, ownerUid)) return false;
  const { uid, resourceVersion } = secret.metadata ?? {};
  try {
    await core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid, resourceVersion } } });
    return true;
  } catch (error) {
    if (isApiStatus(error, 404)) return false;
    throw error;
  }
}

/**
 * A refused Secret write. Its message is the API server's reason with every value of the Secret
 * cut out: an admission policy's message may quote the object, and this message reaches status,
 * Events and logs.
 */
export class SecretWriteError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
    this.name = "SecretWriteError";
  }
}

// Each value both as written and as the API server stores it (base64), longest first so that a
// value containing another is cut whole.
function secretValues(secret: k8s.V1Secret): string[] {
  const plain = [...Object.values(secret.data ?? {}).map((value) => Buffer.from(value, "base64").toString("utf8")), ...Object.values(secret.stringData ?? {})];
  const encoded = plain.map((value) => Buffer.from(value).toString("base64"));
  return [...encoded, ...plain].filter((value) => value.length >= 4).sort((a, b) => b.length - a.length);
}

export function redactSecretValues(text: string, secret: k8s.V1Secret): string {
  return secretValues(secret).reduce((out, value) => out.split(value).join("[redacted]"), text);
}

/** Creates a Secret we own; one that appeared meanwhile is left for the next decision to judge. */
export async function createOwnedSecret(core: k8s.CoreV1Api, secret: k8s.V1Secret): Promise<boolean> {
  try {
    await core.createNamespacedSecret({ namespace: secret.metadata?.namespace ?? "", body: secret });
    return true;
  } catch (error) {
    if (isApiStatus(error, 409)) return false;
    const name = secret.metadata?.name ?? "";
    throw new SecretWriteError(`Secret ${name} could not be written: ${redactSecretValues(errorReason(error), secret)}`, apiStatus(error));
  }
}

export function controllerReference(apiVersion: string, kind: string, object: k8s.KubernetesObject): k8s.V1OwnerReference {
  return { apiVersion, kind, name: object.metadata?.name ?? "", uid: object.metadata?.uid ?? "", controller: true };
}

export interface IssuedSecretTarget {
  namespace: string;
  secretName: string;
  owner: k8s.V1OwnerReference;
}

/**
 * The shell of every Secret keygate issues: our label, a label naming the owner (so a change to
 * the Secret maps back to it), a controller reference, and immutable, because a credential is
 * written once and never edited in place (DESIGN invariant 1).
 */
export function issuedSecretShell(target: IssuedSecretTarget, ownerLabel: string): k8s.V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: target.secretName,
      namespace: target.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [ownerLabel]: target.owner.name },
      ownerReferences: [target.owner],
    },
    immutable: true,
  };
}
