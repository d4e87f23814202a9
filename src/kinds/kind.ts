import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KindDefinition } from "../api/kind.js";
import type { KekSet } from "../keystore/kek.js";
import type { AdmissionOperation, Admit, FailOpen } from "../runtime/admission.js";
import type { EventSink } from "../runtime/events.js";
import type { ObjectCache } from "../runtime/informer.js";
import type { Inventory } from "../runtime/inventory-metrics.js";
import type { ReconcileResult } from "../runtime/queue.js";
import type { RelyingParty } from "../webauthn/relying-party.js";

/** The operator's settings that some kind reads; each kind takes what it needs. */
export interface OperatorSettings {
  /** The operator's own namespace: the keystore lives there. */
  namespace: string;
  recycleRetentionMs: number;
  /** Ceiling on a TemporaryCredential's durationSeconds. */
  maxSessionSeconds: number;
  /** How long an expired TemporaryCredential stays before it is deleted. */
  sessionRetentionMs: number;
  /** Who keygate is to security keys: the relying party id and the origins ceremonies may come from. */
  relyingParty: RelyingParty;
  /** Test-only fault injection point, right after a keystore record is written. */
  afterRecordWrite?: (namespace: string) => void;
}

/** The operator's caches of every keygate kind, by plural. */
export interface KindCaches {
  of(plural: string): ObjectCache;
}

/** An object of this kind to reconcile. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

/** A kind whose every change (add, update, delete) wakes objects of the watching kind. */
export interface KindWatch {
  readonly plural: string;
  keysFor(event: "add" | "update" | "delete", object: k8s.KubernetesObject, caches: KindCaches): readonly ObjectKey[];
}

/** What the operator hands every kind's controller. */
export interface ControllerContext {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  keks: KekSet;
  /** The operator's cache of this kind's objects. */
  cache: ObjectCache;
  /** The operator's cache of every keygate kind, by plural. */
  caches: KindCaches;
  events: EventSink;
  clock: () => Date;
  log: Logger;
  settings: OperatorSettings;
}

/** A kind's controller: reconciles one object by name, from the state of the world. */
export interface Controller {
  reconcile(namespace: string, name: string): Promise<ReconcileResult | void>;
  /** Work the leader does besides reconciling (e.g. purging the recycle bin). */
  startLeading?(): void;
  stopLeading?(): void;
}

/**
 * Everything the operator, the webhook and the CRD generator need to know of one kind. Adding a
 * kind is a folder exporting one of these, and one line in the registry.
 */
export interface KindModule {
  readonly definition: KindDefinition;
  /** The label on the Secrets this kind issues, naming the owner, so a change maps back to it; none: it issues none. */
  readonly secretLabel?: string;
  /**
   * The operations the validating webhook sees, and the rules; `mutate` is called on CREATE and
   * UPDATE, before every validation, to change the object (who created it). None: no webhook.
   */
  readonly admission?: { operations: readonly AdmissionOperation[]; admit: Admit; mutate?: Admit; failOpen?: FailOpen };
  controller(context: ControllerContext): Controller;
  /**
   * Other objects to reconcile when this one changed or is gone (keys waiting for a slot it gave
   * back), from the cache of this kind: nothing else would wake them, and polling is not how we
   * look again.
   */
  wakePeers?(event: "update" | "delete", object: k8s.KubernetesObject, cache: ObjectCache): readonly { namespace: string; name: string }[];
  /**
   * Other kinds whose changes bear on this kind's objects (a policy on the keys of its
   * namespace, keys on the policy that counts them): each of their events reconciles the objects
   * `keysFor` names, read from the caches. Nothing else would wake them, and we do not poll.
   */
  readonly watches?: readonly KindWatch[];
  /**
   * Whether the caches show the object settled for its current spec, with its issued Secret in
   * place: a new leader does not redo such objects (events still wake them). Absent: every
   * object is looked at again, in the background.
   */
  upToDate?(object: k8s.KubernetesObject, issuedSecrets: ObjectCache<k8s.V1Secret>, caches: KindCaches): boolean;
  /** This kind's share of the operator's inventory gauges, counted from the cache at a scrape. */
  inventory?(objects: readonly unknown[], now: Date): Partial<Inventory>;
}
