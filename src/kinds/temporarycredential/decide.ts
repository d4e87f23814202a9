import type { TemporaryCredential } from "../../api/temporarycredential.js";
import { defaultSecretName } from "../../api/secret-name.js";
import type { SecretObservation } from "../../runtime/kube.js";

export interface IssuedFacts {
  accessKeyId: string;
  issuedAt: string;
  expiration: string;
  mfaAuthenticated: boolean;
}

export interface TemporaryObservation {
  credential: TemporaryCredential;
  secret: SecretObservation;
  /** What an owned Secret says, for a status lost in a crash between Secret and status. */
  secretFacts?: IssuedFacts;
  now: Date;
  retentionMs: number;
}

export interface TemporaryOutcome {
  ready: boolean;
  reason: string;
  message: string;
  expired: boolean;
  facts?: IssuedFacts;
  /** When to look again: the expiry, or the end of the retention. */
  requeueAt?: number;
}

export type TemporaryStep =
  | { kind: "issue" }
  | { kind: "deleteSecret"; outcome: TemporaryOutcome }
  | { kind: "deleteResource" }
  | { kind: "none"; outcome: TemporaryOutcome };

export function sessionSecretName(credential: TemporaryCredential): string {
  return credential.spec.secretName ?? defaultSecretName(credential.metadata.name ?? "");
}

function issuedFacts(obs: TemporaryObservation): IssuedFacts | undefined {
  const status = obs.credential.status;
  if (status?.accessKeyId && status.expiration) {
    return {
      accessKeyId: status.accessKeyId,
      issuedAt: status.issuedAt ?? status.expiration,
      expiration: status.expiration,
      mfaAuthenticated: status.mfaAuthenticated ?? false,
    };
  }
  return obs.secretFacts;
}

function readyReason(credential: TemporaryCredential): string | undefined {
  return credential.status?.conditions?.find((condition) => condition.type === "Ready")?.reason;
}

// Once issued, a session only runs out: at expiry its Secret goes, after the retention the object.
function decideIssued(obs: TemporaryObservation, facts: IssuedFacts): TemporaryStep {
  const expiresAt = Date.parse(facts.expiration);
  const now = obs.now.getTime();
  if (now < expiresAt) {
    const message = `session ${facts.accessKeyId} is valid until ${facts.expiration}`;
    return { kind: "none", outcome: { ready: true, reason: "Issued", message, expired: false, facts, requeueAt: expiresAt } };
  }
  const removeAt = expiresAt + obs.retentionMs;
  const outcome: TemporaryOutcome = {
    ready: false,
    reason: "Expired",
    message: `session ${facts.accessKeyId} expired at ${facts.expiration}; its Secret was deleted`,
    expired: true,
    facts,
    requeueAt: removeAt,
  };
  if (obs.secret === "owned") return { kind: "deleteSecret", outcome };
  return now >= removeAt ? { kind: "deleteResource" } : { kind: "none", outcome };
}

/**
 * The next step for a TemporaryCredential. A session is issued at most once: anything that
 * says it was (status, or an owned Secret after a crash) means never again.
 */
export function decideTemporary(obs: TemporaryObservation): TemporaryStep {
  const facts = issuedFacts(obs);
  if (facts) return decideIssued(obs, facts);
  if (obs.secret === "foreign") {
    const message = `Secret ${sessionSecretName(obs.credential)} exists and was not created by keygate for this session; nothing was issued`;
    return { kind: "none", outcome: { ready: false, reason: "SecretConflict", message, expired: false } };
  }
  // A refused MFA code is final: the spec cannot change, and a retry could only replay the code.
  if (readyReason(obs.credential) === "MfaFailed") {
    const message = obs.credential.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "the MFA code was refused";
    return { kind: "none", outcome: { ready: false, reason: "MfaFailed", message, expired: false } };
  }
  return { kind: "issue" };
}
