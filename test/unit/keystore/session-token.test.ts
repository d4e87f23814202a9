import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KekSet } from "../../../src/keystore/kek.js";
import { openSessionToken, type SessionClaims, sealSessionToken } from "../../../src/keystore/session-token.js";

function keks(version = 1): KekSet {
  const key = randomBytes(32);
  return { current: { version, key }, ring: new Map([[version, key]]) };
}

const claims: SessionClaims = {
  accessKeyId: "KGASABCDEFGHIJKLMNOP",
  namespace: "team-a",
  user: "alice",
  issuedAt: 1_800_000_000_000,
  expiresAt: 1_800_003_600_000,
  mfaAuthenticated: true,
  secretAccessKey: "s".repeat(40),
};

describe("session tokens", () => {
  const ring = keks();

  it("carry every claim the verifier needs, sealed", () => {
    const token = sealSessionToken(ring, claims);
    expect(token).not.toContain("alice");
    expect(token).not.toContain(claims.secretAccessKey);
    expect(openSessionToken(ring, token)).toEqual({ ok: true, claims });
  });

  it("fail as forged when a single character is altered", () => {
    const token = sealSessionToken(ring, claims);
    const parts = token.split(".");
    const body = parts[3] ?? "";
    parts[3] = (body[0] === "A" ? "B" : "A") + body.slice(1);
    expect(openSessionToken(ring, parts.join("."))).toMatchObject({ ok: false });
  });

  it("fail as forged under another operator's key", () => {
    expect(openSessionToken(keks(), sealSessionToken(ring, claims))).toEqual({ ok: false, reason: "forged" });
  });

  it("fail as malformed when not a token at all", () => {
    expect(openSessionToken(ring, "not-a-token")).toEqual({ ok: false, reason: "malformed" });
  });

  it("open after a KEK rotation while the old version stays in the ring", () => {
    const old = sealSessionToken(ring, claims);
    const next = randomBytes(32);
    const rotated: KekSet = { current: { version: 2, key: next }, ring: new Map([...ring.ring, [2, next]]) };
    expect(openSessionToken(rotated, old)).toMatchObject({ ok: true });
  });
});
