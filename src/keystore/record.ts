import type { V1Secret } from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import type { KekSet } from "./kek.js";
import { open, seal } from "./seal.js";

// A keystore record is a Secret in the operator namespace: the sealed secret plus what the
// operator and the verifier need to know about the key without opening it.
export const RECORD_KIND_LABEL = "keystore.keygate.dev/kind";
export const RECORD_OWNER_LABEL = "keystore.keygate.dev/owner-uid";
export const RECORD_ID_LABEL = "keystore.keygate.dev/access-key-id";
export const RECORD_STATE_LABEL = "keystore.keygate.dev/state";
const NAMESPACE_ANNOTATION = "keystore.keygate.dev/namespace";
const USER_ANNOTATION = "keystore.keygate.dev/user";
const CREATED_ANNOTATION = "keystore.keygate.dev/created-at";
const RECYCLED_ANNOTATION = "keystore.keygate.dev/recycled-at";
const ISSUED_ANNOTATION = "keystore.keygate.dev/issued-secret";
const SEALED_KEY = "sealed";

export const ACCESS_KEY_RECORD = "access-key";

export type RecordState = "Active" | "Inactive" | "Recycled";

export interface KeyRecord {
  accessKeyId: string;
  namespace: string;
  user: string;
  /** uid of the AccessKey the record is bound to; the last one, once recycled. */
  ownerUid: string;
  state: RecordState;
  createdAt: string;
  recycledAt?: string;
  /** Name of the issued Secret, once it has been written; it is never written twice. */
  issuedSecret?: string;
  sealed: string;
  resourceVersion?: string;
}

/** When the record moved to the recycle bin; records of operators that did not note it count from their creation. */
export function recycledAtOf(record: KeyRecord): string {
  return record.recycledAt ?? record.createdAt;
}

/**
 * Whether the record is in the recycle bin since `deletedAt`. A bin object noting another instant
 * is from an earlier stay: the key was restored since, and perhaps deleted again.
 */
export function inBinSince(record: KeyRecord | undefined, deletedAt: string): boolean {
  return record?.state === "Recycled" && Date.parse(recycledAtOf(record)) === Date.parse(deletedAt);
}

export function recordName(accessKeyId: string): string {
  return `kgak-${accessKeyId.toLowerCase()}`;
}

// The AAD binds a sealed secret to its key id and account, so a blob copied into another
// record does not open.
function aad(namespace: string, accessKeyId: string): string {
  return `access-key/${namespace}/${accessKeyId}`;
}

export function sealSecret(keks: KekSet, namespace: string, accessKeyId: string, secret: string): string {
  return seal(Buffer.from(secret, "utf8"), keks.current, aad(namespace, accessKeyId));
}

export function openSecret(keks: KekSet, record: KeyRecord): string {
  return open(record.sealed, keks.ring, aad(record.namespace, record.accessKeyId)).toString("utf8");
}

export function recordToSecret(record: KeyRecord, operatorNamespace: string): V1Secret {
  const annotations: Record<string, string> = {
    [NAMESPACE_ANNOTATION]: record.namespace,
    [USER_ANNOTATION]: record.user,
    [CREATED_ANNOTATION]: record.createdAt,
  };
  if (record.recycledAt) annotations[RECYCLED_ANNOTATION] = record.recycledAt;
  if (record.issuedSecret) annotations[ISSUED_ANNOTATION] = record.issuedSecret;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: recordName(record.accessKeyId),
      namespace: operatorNamespace,
      resourceVersion: record.resourceVersion,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [RECORD_KIND_LABEL]: ACCESS_KEY_RECORD,
        [RECORD_OWNER_LABEL]: record.ownerUid,
        [RECORD_ID_LABEL]: record.accessKeyId,
        [RECORD_STATE_LABEL]: record.state,
      },
      annotations,
    },
    data: { [SEALED_KEY]: Buffer.from(record.sealed, "utf8").toString("base64") },
  };
}

function isRecordState(value: string | undefined): value is RecordState {
  return value === "Active" || value === "Inactive" || value === "Recycled";
}

interface RecordIdentity {
  accessKeyId: string;
  ownerUid: string;
  namespace: string;
  user: string;
  createdAt: string;
}

function identityOf(secret: V1Secret): RecordIdentity | undefined {
  const labels = secret.metadata?.labels ?? {};
  const annotations = secret.metadata?.annotations ?? {};
  const fields = {
    accessKeyId: labels[RECORD_ID_LABEL],
    ownerUid: labels[RECORD_OWNER_LABEL],
    namespace: annotations[NAMESPACE_ANNOTATION],
    user: annotations[USER_ANNOTATION],
    createdAt: annotations[CREATED_ANNOTATION],
  };
  const complete = Object.values(fields).every((value) => typeof value === "string" && value !== "");
  return complete ? (fields as RecordIdentity) : undefined;
}

/** Reads a record back; anything that is not a well-formed record of ours is undefined. */
export function secretToRecord(secret: V1Secret): KeyRecord | undefined {
  const metadata = secret.metadata ?? {};
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const sealedB64 = (secret.data ?? {})[SEALED_KEY];
  const state = labels[RECORD_STATE_LABEL];
  const identity = identityOf(secret);
  if (labels[RECORD_KIND_LABEL] !== ACCESS_KEY_RECORD || !identity || !sealedB64 || !isRecordState(state)) {
    return undefined;
  }
  return {
    ...identity,
    state,
    recycledAt: annotations[RECYCLED_ANNOTATION],
    issuedSecret: annotations[ISSUED_ANNOTATION],
    sealed: Buffer.from(sealedB64, "base64").toString("utf8"),
    resourceVersion: metadata.resourceVersion,
  };
}
