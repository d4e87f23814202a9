import type { V1Secret } from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import type { KekSet } from "./kek.js";
import { RECORD_KIND_LABEL, RECORD_OWNER_LABEL } from "./record.js";
import { open, seal } from "./seal.js";

// A security key's record is a kind of its own, sealed under an AAD of its own: a keygate from
// before security keys lists `mfa-device` records and opens each as a TOTP seed, and a key's sealed
// plaintext is rebuildable from the MfaDevice. Such a keygate (mid-upgrade, or rolled back) never
// lists a key's record, and one that reads it by name fails to open it.
export const MFA_DEVICE_RECORD = "mfa-device";
export const MFA_SECURITY_KEY_RECORD = "mfa-security-key";
/** Both kinds of MFA device record, for a label selector that lists them in one call. */
export const MFA_RECORD_KINDS: readonly string[] = [MFA_DEVICE_RECORD, MFA_SECURITY_KEY_RECORD];
const PREFIX = "keystore.keygate.dev/";
const SEALED_KEY = "sealed";

/** A security key's registration ceremony, while it is to be completed. */
export interface PendingRegistration {
  challenge: string;
  expiresAt: string;
  rpId: string;
  /** PublicKeyCredentialCreationOptionsJSON, as the browser page takes it. */
  options: string;
}

/** An assertion challenge judged already; kept until it would have expired anyway. */
export interface UsedChallenge {
  id: string;
  expiresAt: string;
}

/**
 * The operator's copy of an MFA device: for a virtual device its sealed seed, for a security key
 * its sealed credential; and the binding and replay state every verifier replica shares. Updates carry the resourceVersion they were read at, so of two
 * replicas accepting the same code at once, exactly one write succeeds.
 */
export interface MfaRecord {
  ownerUid: string;
  namespace: string;
  user: string;
  deviceName: string;
  createdAt: string;
  sealed: string;
  bound: boolean;
  boundAt?: string;
  /** The last time step whose code was accepted; a code of this step or earlier never is again. */
  lastAcceptedStep: number;
  failedAttempts: number;
  lockedUntil?: string;
  /** The spec generation whose verification codes were last tried, so one try counts once. */
  attemptedGeneration?: number;
  lastAttemptMessage?: string;
  issuedSecret?: string;
  /** When the seed Secret was removed after binding: from then on the seed lives here only. */
  seedSecretRemovedAt?: string;
  /** Absent on virtual devices' records, which came first; follows the record kind label. */
  deviceType?: "SecurityKey";
  /** The MfaDevice's name, for a verifier to flag a cloned key on its status. */
  objectName?: string;
  registration?: PendingRegistration;
  credentialId?: string;
  transports?: string[];
  /** The relying party id the key was registered for: its assertions are bound to it. */
  rpId?: string;
  /** The highest signature counter accepted; a lower or equal one means a cloned authenticator. */
  signCount?: number;
  /**
   * When an assertion was last accepted. An assertion answering a challenge issued no later was
   * possibly signed before the accepted one (two tabs, a session waiting in a queue), so a
   * counter of it that did not rise is refused as stale and is no sign of a clone; a challenge
   * issued after it can only have been signed after the accepted assertion was.
   */
  lastAssertionAcceptedAt?: string;
  cloneSuspectedAt?: string;
  usedChallenges?: UsedChallenge[];
  resourceVersion?: string;
}

export function isSecurityKey(record: MfaRecord): boolean {
  return record.deviceType === "SecurityKey";
}

/**
 * The sealed part of a security key's record: the WebAuthn user handle, and once registered the
 * public key (COSE, base64url). Neither is secret (the handle is in status.registration.options,
 * the key in spec.registration's attestationObject); they are sealed for integrity: AES-GCM under
 * the record's AAD binds them to this device, so without the KEK no other key can be put in, and a
 * blob copied from another record does not open.
 */
export interface SecurityKeySecrets {
  userId: string;
  publicKey?: string;
}

export function mfaRecordName(ownerUid: string): string {
  return `kgmfa-${ownerUid}`;
}

type RecordIdentity = Pick<MfaRecord, "namespace" | "ownerUid">;

function seedAad(record: RecordIdentity): string {
  return `${MFA_DEVICE_RECORD}/${record.namespace}/${record.ownerUid}`;
}

function securityKeyAad(record: RecordIdentity): string {
  return `${MFA_SECURITY_KEY_RECORD}/${record.namespace}/${record.ownerUid}`;
}

export function sealSeed(keks: KekSet, record: RecordIdentity, seed: Buffer): string {
  return seal(seed, keks.current, seedAad(record));
}

export function openSeed(keks: KekSet, record: MfaRecord): Buffer {
  return open(record.sealed, keks.ring, seedAad(record));
}

export function sealSecurityKey(keks: KekSet, record: RecordIdentity, secrets: SecurityKeySecrets): string {
  return seal(Buffer.from(JSON.stringify(secrets), "utf8"), keks.current, securityKeyAad(record));
}

export function openSecurityKey(keks: KekSet, record: MfaRecord): SecurityKeySecrets {
  const secrets = JSON.parse(open(record.sealed, keks.ring, securityKeyAad(record)).toString("utf8")) as Partial<SecurityKeySecrets>;
  if (typeof secrets.userId !== "string") throw new Error(`the security key record of ${record.namespace}/${record.deviceName} holds no user handle`);
  return { userId: secrets.userId, publicKey: typeof secrets.publicKey === "string" ? secrets.publicKey : undefined };
}

// Everything but the seed is plain state, kept as one JSON annotation: one field to read and
// write atomically with the resourceVersion. The device type is the record kind label's.
type StateFields = Omit<MfaRecord, "ownerUid" | "sealed" | "resourceVersion" | "deviceType">;

export function mfaRecordToSecret(record: MfaRecord, operatorNamespace: string): V1Secret {
  const { ownerUid, sealed, resourceVersion, deviceType, ...state } = record;
  const kind = deviceType === "SecurityKey" ? MFA_SECURITY_KEY_RECORD : MFA_DEVICE_RECORD;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: mfaRecordName(ownerUid),
      namespace: operatorNamespace,
      resourceVersion,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_KIND_LABEL]: kind, [RECORD_OWNER_LABEL]: ownerUid },
      annotations: { [`${PREFIX}state`]: JSON.stringify(state) },
    },
    data: { [SEALED_KEY]: Buffer.from(sealed, "utf8").toString("base64") },
  };
}

function parseState(text: string | undefined): StateFields | undefined {
  try {
    const state = JSON.parse(text ?? "") as Partial<StateFields>;
    const complete = typeof state.namespace === "string" && typeof state.user === "string" && typeof state.bound === "boolean";
    return complete ? (state as StateFields) : undefined;
  } catch {
    return undefined;
  }
}

// The kind label says which device the record is of; any other kind is no MFA record.
function deviceTypeOf(kind: string | undefined): Pick<MfaRecord, "deviceType"> | undefined {
  if (kind === MFA_SECURITY_KEY_RECORD) return { deviceType: "SecurityKey" };
  return kind === MFA_DEVICE_RECORD ? {} : undefined;
}

export function secretToMfaRecord(secret: V1Secret): MfaRecord | undefined {
  const metadata = secret.metadata ?? {};
  const labels = metadata.labels ?? {};
  const ownerUid = labels[RECORD_OWNER_LABEL];
  const sealed = (secret.data ?? {})[SEALED_KEY];
  const state = parseState((metadata.annotations ?? {})[`${PREFIX}state`]);
  const deviceType = deviceTypeOf(labels[RECORD_KIND_LABEL]);
  if (!deviceType || !ownerUid || !sealed || !state) return undefined;
  return { ...state, ...deviceType, ownerUid, sealed: Buffer.from(sealed, "base64").toString("utf8"), resourceVersion: metadata.resourceVersion };
}
