import type { Logger } from "pino";
import type { KekSet } from "../keystore/kek.js";
import { type MfaRecord, openSeed } from "../keystore/mfa-record.js";
import { isApiStatus } from "../runtime/errors.js";
import { afterFailure, checkCode, lockedUntil } from "./binding.js";
import { deviceForCode, recordCandidate } from "./code-device.js";
import type { MfaRecordStore } from "../keystore/mfa-store.js";

export type MfaAnswer =
  | { valid: true }
  | { valid: false; code: "MfaDeviceNotFound" | "InvalidCode" | "CodeReused" }
  | { valid: false; code: "MfaLocked"; retryAfterSeconds: number };

export interface MfaCheckerOptions {
  records: MfaRecordStore;
  keks: () => KekSet | undefined;
  now: () => Date;
  log: Logger;
}

// Every decision is written with the resourceVersion it was made on; a conflict means another
// request (on any replica) changed the record first, so the check runs again on fresh state.
const MAX_ATTEMPTS = 5;

/**
 * TOTP checks for bound virtual devices, shared by every verifier replica through the keystore
 * record: a code is accepted once, two racing requests with one code get exactly one "valid",
 * and five failures lock the user's device for five minutes.
 */
export class MfaChecker {
  constructor(private readonly options: MfaCheckerOptions) {}

  /** Checks a code of the user's bound virtual device. */
  async verify(namespace: string, user: string, code: string): Promise<MfaAnswer> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const target = deviceForCode(await this.options.records.bound(namespace, user), recordCandidate);
      if (!target.found) return { valid: false, code: "MfaDeviceNotFound" };
      try {
        return await this.decide(target.device, code);
      } catch (error) {
        if (!isApiStatus(error, 409)) throw error;
      }
    }
    throw new Error("the MFA record kept changing under concurrent checks");
  }

  private async decide(record: MfaRecord, code: string): Promise<MfaAnswer> {
    const keks = this.options.keks();
    if (!keks) throw new Error("the key-encryption key is not loaded yet");
    const judgement = judgeCode(record, openSeed(keks, record), code, this.options.now().getTime());
    if (judgement.next) await this.options.records.update(judgement.next);
    if (!judgement.answer.valid) {
      this.options.log.info({ namespace: record.namespace, user: record.user, reason: judgement.answer.code }, "MFA code refused");
    }
    return judgement.answer;
  }
}

/** An answer, and the record to write with the resourceVersion it was read at (none: nothing changes). */
export interface Judgement {
  answer: MfaAnswer;
  next?: MfaRecord;
}

/**
 * Judges one code against a bound device's record, purely: a locked device refuses without
 * counting; an accepted code moves the last accepted step on (so it is never taken again); a
 * refused one counts toward the lockout.
 */
export function judgeCode(record: MfaRecord, seed: Buffer, code: string, nowMs: number): Judgement {
  const locked = lockedUntil(record, nowMs);
  if (locked) return { answer: { valid: false, code: "MfaLocked", retryAfterSeconds: Math.ceil((Date.parse(locked) - nowMs) / 1000) } };
  const check = checkCode(seed, code, nowMs, record.lastAcceptedStep);
  if (check.ok) {
    return { answer: { valid: true }, next: { ...record, lastAcceptedStep: check.step, failedAttempts: 0, lockedUntil: undefined } };
  }
  const answer: MfaAnswer = { valid: false, code: check.reason === "CodeReused" ? "CodeReused" : "InvalidCode" };
  return { answer, next: { ...record, ...afterFailure(record, nowMs) } };
}
