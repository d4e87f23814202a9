import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import type { KekSet } from "../../../src/keystore/kek.js";
import { REDACTED_PATHS } from "../../../src/log.js";
import type { MfaAnswer } from "../../../src/otp/checker.js";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import { sealSessionToken, type SessionClaims } from "../../../src/keystore/session-token.js";
import { parseNetworks } from "../../../src/verifier/ip.js";
import type { IndexedKey, KeyOwner } from "../../../src/verifier/key-table.js";
import { VerifierMetrics } from "../../../src/verifier/metrics.js";
import type { AuthenticationResponse } from "../../../src/api/webauthn.js";
import { createVerifierServer } from "../../../src/verifier/server.js";
import { Verification, type KeyLookup } from "../../../src/verifier/verification.js";
import { FakeKeys } from "../verifier/fake-keys.js";

const KEY = randomBytes(32);
export const KEKS: KekSet = { current: { version: 1, key: KEY }, ring: new Map([[1, KEY]]) };

export const TEMPORARY_KEY_ID = "KGASTEMPTEMPTEMPTEMP";
export const TEMPORARY_SECRET = "temporary-secret-0123456789-abcdefghijkl";

export function sessionClaims(overrides: Partial<SessionClaims> = {}): SessionClaims {
  const now = Date.now();
  return { accessKeyId: TEMPORARY_KEY_ID, namespace: "team", user: "alice", issuedAt: now, expiresAt: now + 3_600_000, mfaAuthenticated: false, secretAccessKey: TEMPORARY_SECRET, ...overrides };
}

export function sessionToken(overrides: Partial<SessionClaims> = {}): string {
  return sealSessionToken(KEKS, sessionClaims(overrides));
}

/** The fake index's long-term key, plus the KEK that opens session tokens (temporary keys). */
class KeysWithSessions implements KeyLookup {
  readonly isReady = true;
  private readonly keys = new FakeKeys();

  lookup(accessKeyId: string): IndexedKey | undefined {
    return this.keys.lookup(accessKeyId);
  }

  kekSet(): KekSet {
    return KEKS;
  }

  owner(accessKeyId: string): KeyOwner | undefined {
    return this.keys.owner(accessKeyId);
  }

  accountNetworks(): undefined {
    return undefined;
  }
}

export interface MfaCall {
  readonly namespace: string;
  readonly user: string;
  readonly code: string;
}

/** A call that reached the security-key checker: a challenge (no assertion) or an assertion to check. */
export interface KeyCall {
  readonly namespace: string;
  readonly user: string;
  readonly assertion?: AuthenticationResponse;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** What reached the MFA checker: only calls that passed every check. */
  readonly mfaCalls: MfaCall[];
  readonly keyCalls: KeyCall[];
  close(): Promise<void>;
}

function networks(...entries: string[]) {
  const parsed = parseNetworks(entries);
  if (!parsed.ok) throw new Error(parsed.entry);
  return parsed.networks;
}

/** The verifier's HTTP server as startVerifier builds it, on a fixed key table, listening on 127.0.0.1. */
export async function startServer(maxBodyBytes: number, logs?: Writable): Promise<RunningServer> {
  const keys = new KeysWithSessions();
  const nonces = new MemoryReplayStore();
  const mfaCalls: MfaCall[] = [];
  const keyCalls: KeyCall[] = [];
  const notFound = { code: "MfaDeviceNotFound", message: "no registered security key" } as const;
  const server = createVerifierServer({
    verification: new Verification(keys, nonces, () => new Date()),
    owners: keys,
    securityKeys: {
      challenge: ({ namespace, user }) => {
        keyCalls.push({ namespace, user });
        return Promise.resolve({ found: false, ...notFound });
      },
      verify: ({ namespace, user }, assertion) => {
        keyCalls.push({ namespace, user, assertion });
        return Promise.resolve({ valid: false, ...notFound });
      },
    },
    mfa: {
      verify: (namespace: string, user: string, code: string): Promise<MfaAnswer> => {
        mfaCalls.push({ namespace, user, code });
        return Promise.resolve({ valid: false, code: "MfaDeviceNotFound" });
      },
    },
    ready: () => true,
    metrics: new VerifierMetrics({ keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => nonces.size(), ready: () => true }),
    lastUsed: { record: () => undefined },
    trustedProxies: networks("127.0.0.1"),
    trustedCallers: networks("127.0.0.1"),
    maxBodyBytes,
    now: () => new Date(),
    // Debug, the most talkative level, with the production redaction paths.
    log: logs ? pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, logs) : pino({ level: "silent" }),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    mfaCalls,
    keyCalls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
