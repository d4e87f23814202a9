import { describe, expect, it } from "vitest";
import { afterFailure, checkBindingCodes, checkCode, lockedUntil } from "../../../src/otp/binding.js";
import { hotp, stepAt } from "../../../src/otp/totp.js";

const seed = Buffer.from("0123456789abcdef0123", "ascii");
const now = 1_800_000_015_000;
const step = stepAt(now);
const code = (s: number): string => hotp(seed, s);

describe("binding a virtual MFA device", () => {
  it("binds with the previous and current codes, and with the current and next", () => {
    expect(checkBindingCodes(seed, { code1: code(step - 1), code2: code(step) }, now, 0)).toEqual({ ok: true, step });
    expect(checkBindingCodes(seed, { code1: code(step), code2: code(step + 1) }, now, 0)).toEqual({ ok: true, step: step + 1 });
  });

  it("refuses codes that are not consecutive, saying so", () => {
    const result = checkBindingCodes(seed, { code1: code(step - 1), code2: code(step + 1) }, now, 0);
    expect(result).toMatchObject({ ok: false, reason: "NotConsecutive" });
  });

  it("refuses codes of another seed or too old", () => {
    expect(checkBindingCodes(seed, { code1: "000000", code2: "111111" }, now, 0)).toMatchObject({ ok: false, reason: "WrongCodes" });
    expect(checkBindingCodes(seed, { code1: code(step - 3), code2: code(step - 2) }, now, 0)).toMatchObject({
      ok: false,
      reason: "WrongCodes",
    });
  });

  it("never accepts binding codes again", () => {
    const result = checkBindingCodes(seed, { code1: code(step - 1), code2: code(step) }, now, step);
    expect(result).toMatchObject({ ok: false, reason: "CodeReused" });
  });
});

describe("verifying a code", () => {
  it("accepts a code once and refuses it for the rest of its window", () => {
    const first = checkCode(seed, code(step), now, step - 1);
    expect(first).toEqual({ ok: true, step });
    expect(checkCode(seed, code(step), now + 20_000, step)).toMatchObject({ ok: false, reason: "CodeReused" });
  });

  it("refuses an older code once a newer one was accepted", () => {
    expect(checkCode(seed, code(step - 1), now, step)).toMatchObject({ ok: false, reason: "CodeReused" });
  });
});

describe("lockout", () => {
  it("locks for five minutes on the fifth failure in a row", () => {
    let state = { failedAttempts: 0 } as { failedAttempts: number; lockedUntil?: string };
    for (let i = 0; i < 4; i++) state = afterFailure(state, now);
    expect(lockedUntil(state, now)).toBeUndefined();
    state = afterFailure(state, now);
    expect(lockedUntil(state, now)).toBe(new Date(now + 5 * 60_000).toISOString());
    expect(lockedUntil(state, now + 5 * 60_000)).toBeUndefined();
  });
});
