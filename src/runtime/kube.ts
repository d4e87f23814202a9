import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);

export function isApiStatus(error: unknown, code: number): boolean {
  return error instanceof k8s.ApiException && error.code === code;
}

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

  // JSON patch guarded by the resourceVersion it was decided on: a concurrent writer makes it
  // fail with a conflict and the object is reconciled again, never a lost update.
  async setFinalizers(raw: k8s.KubernetesObject, finalizers: string[]): Promise<void> {
    const { namespace = "", name = "", resourceVersion } = raw.metadata ?? {};
    await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: this.plural,
        name,
        body: [
          { op: "test", path: "/metadata/resourceVersion", value: resourceVersion },
          { op: "add", path: "/metadata/finalizers", value: finalizers },
        ],
      },
      JSON_PATCH,
    );
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

export async function observeSecret(core: k8s.CoreV1Api, namespace: string, name: string, ownerUid: string): Promise<SecretObservation> {
  try {
    const secret = await core.readNamespacedSecret({ namespace, name });
    return isOwnedSecret(secret, ownerUid) ? "owned" : "foreign";
  } catch (error) {
    if (isApiStatus(error, 404)) return "absent";
    throw error;
  }
}

/** Creates a Secret we own; one that appeared meanwhile is left for the next decision to judge. */
export async function createOwnedSecret(core: k8s.CoreV1Api, secret: k8s.V1Secret): Promise<boolean> {
  try {
    await core.createNamespacedSecret({ namespace: secret.metadata?.namespace ?? "", body: secret });
    return true;
  } catch (error) {
    if (isApiStatus(error, 409)) return false;
    throw error;
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
