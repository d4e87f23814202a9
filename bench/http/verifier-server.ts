// The verifier's own HTTP handler in a process of its own, with an in-memory key index instead
// of the cluster-backed one: everything a request goes through (body reading, description
// parsing, verification, key state, metrics, last-used batching) is the real code.
import { createLogger } from "../../src/log.js";
import { systemClock } from "../../src/runtime/clock.js";
import { MemoryReplayStore } from "../../src/replay/memory.js";
import { parseNetworks } from "../../src/verifier/ip.js";
import { LastUsedBatcher } from "../../src/verifier/last-used.js";
import { VerifierMetrics } from "../../src/verifier/metrics.js";
import { createVerifierServer } from "../../src/verifier/server.js";
import { Verification } from "../../src/verifier/verification.js";
import { serveChild } from "./child.js";
import { indexedKeys, NO_SECURITY_KEYS } from "./indexed-keys.js";

const keys = indexedKeys();
const none = parseNetworks([]);
if (!none.ok) throw new Error("an empty network list must parse");
const log = createLogger({ level: "silent" });
const now = (): Date => new Date();
const nonces = new MemoryReplayStore();
// Long-term keys only: no KEK, so no temporary credentials (the load uses none).
const index = { isReady: true, lookup: (id: string) => keys.get(id), kekSet: () => undefined, accountNetworks: () => undefined };

serveChild(
  createVerifierServer({
    verification: new Verification(index, nonces, now),
    owners: { owner: () => undefined },
    mfa: { verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound" }) },
    securityKeys: NO_SECURITY_KEYS,
    ready: () => true,
    metrics: new VerifierMetrics({ keyCounts: () => ({ Active: keys.size, Inactive: 0, Recycled: 0 }), replayCacheSize: () => nonces.size(), ready: () => true }),
    // Batching as in production; the flush that would patch the cluster does nothing here.
    lastUsed: new LastUsedBatcher({ intervalMs: 60_000, clock: systemClock, flush: () => Promise.resolve("written"), log }),
    trustedProxies: none.networks,
    trustedCallers: none.networks,
    maxBodyBytes: 8 * 1024 * 1024,
    now,
    log,
  }),
);
