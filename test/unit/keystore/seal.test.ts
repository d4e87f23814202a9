import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Kek, type KekRing, open, seal, SealError, type SealErrorCode } from "../../../src/keystore/seal.js";

const kek1: Kek = { version: 1, key: randomBytes(32) };
const kek2: Kek = { version: 2, key: randomBytes(32) };
const ring: KekRing = new Map([
  [kek1.version, kek1.key],
  [kek2.version, kek2.key],
]);
const aad = "team-a/KGAKABCDEFGHIJKLMNOP";
const plaintext = Buffer.from("a secret access key nobody may read");

function failure(run: () => unknown): SealError {
  try {
    run();
  } catch (error) {
    if (error instanceof SealError) return error;
    throw error;
  }
  throw new Error("expected a SealError");
}

function expectCode(run: () => unknown, code: SealErrorCode): void {
  const error = failure(run);
  expect(error.code).toBe(code);
  expect(error.message).not.toContain(plaintext.toString());
}

// Replaces one base64url character of a part of the sealed string with a different one that
// still decodes canonically, so that only the bytes change.
function alterPart(sealed: string, part: number): string {
  const parts = sealed.split(".");
  const text = parts[part] ?? "";
  const first = text.charAt(0);
  parts[part] = (first === "A" ? "B" : "A") + text.slice(1);
  return parts.join(".");
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The 22nd character of a 16-byte tag carries 2 bits of data and 4 zero bits of padding;
// setting a padding bit spells the same bytes differently.
function nonCanonicalTag(sealed: string): string {
  const last = BASE64URL.indexOf(sealed.slice(-1));
  return sealed.slice(0, -1) + BASE64URL.charAt(last + 1);
}

describe("sealing a keystore record", () => {
  it("opens to the original plaintext with the same KEK and AAD", () => {
    expect(open(seal(plaintext, kek2, aad), ring, aad)).toEqual(plaintext);
  });

  it("round-trips an empty plaintext", () => {
    expect(open(seal(Buffer.alloc(0), kek1, aad), ring, aad)).toEqual(Buffer.alloc(0));
  });

  it("writes the format tag and KEK version in clear and never the plaintext", () => {
    const sealed = seal(plaintext, kek2, aad);
    expect(sealed).toMatch(/^kgs1\.2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(plaintext.toString("base64url"));
  });

  it("uses a fresh IV every time, so the same record seals differently", () => {
    const ivs = new Set(Array.from({ length: 200 }, () => seal(plaintext, kek1, aad).split(".")[2]));
    expect(ivs.size).toBe(200);
  });

  it("picks the KEK by the version in the blob, so records sealed before a rotation still open", () => {
    const old = seal(plaintext, kek1, aad);
    const current = seal(plaintext, kek2, aad);
    expect(open(old, ring, aad)).toEqual(plaintext);
    expect(open(current, ring, aad)).toEqual(plaintext);
  });
});

describe("opening a sealed record that is not what it claims", () => {
  it("fails authentication under the wrong key for that version", () => {
    const sealed = seal(plaintext, kek1, aad);
    expectCode(() => open(sealed, new Map([[1, kek2.key]]), aad), "KG_ERR_SEAL_AUTHENTICATION_FAILED");
  });

  it("fails authentication when moved to another record (AAD swap)", () => {
    const sealed = seal(plaintext, kek1, aad);
    expectCode(() => open(sealed, ring, "team-b/KGAKABCDEFGHIJKLMNOP"), "KG_ERR_SEAL_AUTHENTICATION_FAILED");
  });

  it("fails authentication when a byte of the IV, ciphertext or tag is altered", () => {
    const sealed = seal(plaintext, kek1, aad);
    for (const part of [2, 3, 4]) {
      expectCode(() => open(alterPart(sealed, part), ring, aad), "KG_ERR_SEAL_AUTHENTICATION_FAILED");
    }
  });

  it("fails authentication when the header is relabelled to another known KEK version", () => {
    const relabelled = seal(plaintext, kek1, aad).replace(/^kgs1\.1\./, "kgs1.2.");
    expectCode(() => open(relabelled, ring, aad), "KG_ERR_SEAL_AUTHENTICATION_FAILED");
  });

  it("refuses a version the ring does not hold, naming only the version", () => {
    const sealed = seal(plaintext, { version: 7, key: randomBytes(32) }, aad);
    const error = failure(() => open(sealed, ring, aad));
    expect(error.code).toBe("KG_ERR_SEAL_UNKNOWN_KEK_VERSION");
    expect(error.message).toBe("no KEK with version 7");
  });

  it.each([
    ["another format tag", (s: string) => s.replace(/^kgs1/, "kgs2")],
    ["a missing part", (s: string) => s.split(".").slice(0, 4).join(".")],
    ["an extra part", (s: string) => `${s}.AAAA`],
    ["a version with a leading zero", (s: string) => s.replace(/^kgs1\.1\./, "kgs1.01.")],
    ["a non-canonical base64url spelling of the tag", nonCanonicalTag],
    ["a truncated tag", (s: string) => s.slice(0, -4)],
    ["characters outside base64url", (s: string) => s.replace(/\.([^.]+)$/, ".+$1")],
  ])("refuses %s as malformed", (_what, mangle) => {
    expectCode(() => open(mangle(seal(plaintext, kek1, aad)), ring, aad), "KG_ERR_SEAL_MALFORMED");
  });

  it("refuses to seal under a key that is not 256 bits or a version that is not a positive integer", () => {
    expectCode(() => seal(plaintext, { version: 1, key: randomBytes(16) }, aad), "KG_ERR_SEAL_INVALID_KEK");
    expectCode(() => seal(plaintext, { version: 0, key: kek1.key }, aad), "KG_ERR_SEAL_INVALID_KEK");
    expectCode(() => seal(plaintext, { version: 1.5, key: kek1.key }, aad), "KG_ERR_SEAL_INVALID_KEK");
  });
});
