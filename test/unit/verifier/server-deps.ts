import { pino } from "pino";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import { parseNetworks } from "../../../src/verifier/ip.js";
import { VerifierMetrics } from "../../../src/verifier/metrics.js";
import type { ServerDeps } from "../../../src/verifier/server.js";
import { Verification } from "../../../src/verifier/verification.js";
import { FakeKeys } from "./fake-keys.js";

/** Security keys of no one: every challenge and assertion finds no registered key. */
export const NO_SECURITY_KEYS: ServerDeps["securityKeys"] = {
  challenge: () => Promise.resolve({ found: false, code: "MfaDeviceNotFound", message: "no registered security key" }),
  verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound", message: "no registered security key" }),
};

/** A verifier server's dependencies for a test: fake keys, always ready, nothing recorded or logged, no trusted networks; overrides on top. */
export function serverDeps(overrides: Partial<ServerDeps> = {}): ServerDeps {
  const keys = new FakeKeys();
  const none = parseNetworks([]);
  if (!none.ok) throw new Error("no networks");
  return {
    verification: new Verification(keys, new MemoryReplayStore(), () => new Date()),
    owners: keys,
    mfa: { verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound" }) },
    securityKeys: NO_SECURITY_KEYS,
    ready: () => true,
    metrics: new VerifierMetrics({ keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => 0, ready: () => true }),
    lastUsed: { record: () => undefined },
    trustedProxies: none.networks,
    trustedCallers: none.networks,
    maxBodyBytes: 4096,
    now: () => new Date(),
    log: pino({ level: "silent" }),
    ...overrides,
  };
}
