import { createHash } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { isApiStatus } from "../runtime/errors.js";
import { RECORD_KIND_LABEL } from "./record.js";

export const USER_SLOTS_RECORD = "user-slots";
const NAMESPACE_ANNOTATION = "keystore.keygate.dev/namespace";
const USER_ANNOTATION = "keystore.keygate.dev/user";
const HOLDERS_ANNOTATION = "keystore.keygate.dev/holders";

/**
 * Which AccessKeys (by uid) hold one of a user's two key slots. A key takes a slot before it gets
 * an id, and gives it back when it is deleted; every change is a write guarded by the
 * resourceVersion it was decided on, so two reconciles racing for the last slot cannot both win,
 * whatever they believed about each other.
 */
export interface SlotHolder {
  readonly name: string;
  readonly uid: string;
  /**
   * The id the key's record is (or will be) written under, fixed when the slot is taken: a
   * reconcile that finds no record under it after a crash writes that one, never a second id.
   */
  readonly accessKeyId?: string;
}

export interface UserSlots {
  readonly namespace: string;
  readonly user: string;
  readonly holders: readonly SlotHolder[];
  /** Unset: no ledger exists yet for this user; the first claim creates it. */
  readonly resourceVersion?: string;
}

export function userSlotsName(namespace: string, user: string): string {
  return `kgus-${createHash("sha256").update(`${namespace}/${user}`).digest("hex").slice(0, 40)}`;
}

function isHolder(value: unknown): value is SlotHolder {
  if (typeof value !== "object" || value === null) return false;
  const { name, uid, accessKeyId } = value as Record<string, unknown>;
  return typeof name === "string" && typeof uid === "string" && (accessKeyId === undefined || typeof accessKeyId === "string");
}

// A ledger that does not parse cannot be trusted to say who holds what: it throws, and the
// reconcile reports the failure rather than hand out slots it cannot count.
function holdersOf(secret: k8s.V1Secret): SlotHolder[] {
  const name = secret.metadata?.name ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret.metadata?.annotations?.[HOLDERS_ANNOTATION] ?? "");
  } catch {
    throw new Error(`keystore slot ledger ${name} is unreadable`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isHolder)) throw new Error(`keystore slot ledger ${name} is unreadable`);
  return parsed.map(({ name: holder, uid, accessKeyId }) => (accessKeyId === undefined ? { name: holder, uid } : { name: holder, uid, accessKeyId }));
}

function toSecret(slots: UserSlots, operatorNamespace: string): k8s.V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: userSlotsName(slots.namespace, slots.user),
      namespace: operatorNamespace,
      resourceVersion: slots.resourceVersion,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_KIND_LABEL]: USER_SLOTS_RECORD },
      annotations: {
        [NAMESPACE_ANNOTATION]: slots.namespace,
        [USER_ANNOTATION]: slots.user,
        [HOLDERS_ANNOTATION]: JSON.stringify(slots.holders),
      },
    },
  };
}

/**
 * The ledger with an id drawn for the claimant's entry if it has none; every other holder keeps
 * its entry as read (a key issued before ids were kept here has its id in its record and status).
 */
export function withClaimantId(slots: UserSlots, claimantUid: string, draw: () => string): UserSlots {
  const holders = slots.holders.map((holder) => (holder.uid === claimantUid && holder.accessKeyId === undefined ? { ...holder, accessKeyId: draw() } : holder));
  return { ...slots, holders };
}

/** The slot ledgers, one Secret per (namespace, user) in the operator namespace, read from the API server. */
export class UserSlotStore {
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly operatorNamespace: string,
  ) {}

  async read(namespace: string, user: string): Promise<UserSlots | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ namespace: this.operatorNamespace, name: userSlotsName(namespace, user) });
      return { namespace, user, holders: holdersOf(secret), resourceVersion: secret.metadata?.resourceVersion };
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Writes the new holders; a ledger changed (or created) since it was read makes this a 409. */
  async write(slots: UserSlots): Promise<void> {
    const body = toSecret(slots, this.operatorNamespace);
    if (slots.resourceVersion === undefined) {
      await this.core.createNamespacedSecret({ namespace: this.operatorNamespace, body });
      return;
    }
    await this.core.replaceNamespacedSecret({ namespace: this.operatorNamespace, name: body.metadata?.name ?? "", body });
  }
}
