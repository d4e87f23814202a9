import { hotp, matchStep } from "./totp.js";

export const MAX_FAILED_ATTEMPTS = 5;
export const LOCKOUT_MS = 5 * 60 * 1000;

export type CodeCheck =
  | { ok: true; step: number }
  | { ok: false; reason: "WrongCodes" | "NotConsecutive" | "CodeReused"; message: string };

/**
 * Binding proves possession with two codes of consecutive steps, the second within one step of
 * now. A code of a step already accepted (an earlier binding or verification) is never taken
 * again, so codes seen on a screen or in a GitOps repository cannot be replayed.
 */
export function checkBindingCodes(
  seed: Buffer,
  codes: { code1: string; code2: string },
  nowMs: number,
  lastAcceptedStep: number,
): CodeCheck {
  const second = matchStep(seed, codes.code2, nowMs, 1);
  if (second === undefined) {
    return { ok: false, reason: "WrongCodes", message: "code2 is not a current code of this device" };
  }
  if (hotp(seed, second - 1) !== codes.code1) {
    const first = matchStep(seed, codes.code1, nowMs, 2);
    return first === undefined
      ? { ok: false, reason: "WrongCodes", message: "code1 is not a recent code of this device" }
      : { ok: false, reason: "NotConsecutive", message: "code1 and code2 must come from consecutive 30-second steps" };
  }
  if (second - 1 <= lastAcceptedStep) {
    return { ok: false, reason: "CodeReused", message: "these codes were already used; wait for new ones" };
  }
  return { ok: true, step: second };
}

/** One code for verification: current step ±1, never a step already accepted. */
export function checkCode(seed: Buffer, code: string, nowMs: number, lastAcceptedStep: number): CodeCheck {
  const step = matchStep(seed, code, nowMs, 1);
  if (step === undefined) return { ok: false, reason: "WrongCodes", message: "the code is not valid" };
  if (step <= lastAcceptedStep) return { ok: false, reason: "CodeReused", message: "the code was already used" };
  return { ok: true, step };
}

export interface AttemptState {
  failedAttempts: number;
  lockedUntil?: string;
}

export function lockedUntil(state: AttemptState, nowMs: number): string | undefined {
  return state.lockedUntil !== undefined && Date.parse(state.lockedUntil) > nowMs ? state.lockedUntil : undefined;
}

/** Counts a failure; the fifth in a row locks for five minutes and starts the count again. */
export function afterFailure(state: AttemptState, nowMs: number): AttemptState {
  const failedAttempts = state.failedAttempts + 1;
  if (failedAttempts < MAX_FAILED_ATTEMPTS) return { failedAttempts, lockedUntil: state.lockedUntil };
  return { failedAttempts: 0, lockedUntil: new Date(nowMs + LOCKOUT_MS).toISOString() };
}
