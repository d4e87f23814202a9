import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { LeaderElector, type LeaseApi } from "../../src/runtime/leader.js";
import { apiStatus } from "../../src/runtime/errors.js";
import { useNamespace } from "../support/cluster.js";

// A lease this long never expires during a test, so only a release can explain a handover.
const LONG_LEASE_MS = 3_600_000;
const RETRY_MS = 200;

async function eventually(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Who leads, as the candidates' own callbacks say, and whether two ever overlapped. */
class Leadership {
  readonly leading = new Set<string>();
  readonly overlaps: string[] = [];

  callbacks(identity: string) {
    return {
      onStartedLeading: () => {
        if (this.leading.size > 0) this.overlaps.push(`${identity} started while ${[...this.leading].join(",")} led`);
        this.leading.add(identity);
      },
      onStoppedLeading: () => {
        this.leading.delete(identity);
      },
    };
  }

  only(): string | undefined {
    return this.leading.size === 1 ? [...this.leading][0] : undefined;
  }
}

/** Makes every candidate read the lease once before any of them writes, so their writes collide. */
function collidingApi(real: k8s.CoordinationV1Api, allRead: () => Promise<void>, conflicts: string[]): LeaseApi {
  let first = true;
  const noteConflict = (error: unknown): never => {
    if (apiStatus(error) === 409) conflicts.push("conflict");
    throw error;
  };
  return {
    readNamespacedLease: async (request) => {
      try {
        return await real.readNamespacedLease(request);
      } finally {
        if (first) {
          first = false;
          await allRead();
        }
      }
    },
    createNamespacedLease: (request) => real.createNamespacedLease(request).catch(noteConflict),
    replaceNamespacedLease: (request) => real.replaceNamespacedLease(request).catch(noteConflict),
  };
}

function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    if (++arrived >= parties) open();
    return opened;
  };
}

describe("LeaderElector against a real API server", () => {
  const ns = useNamespace("rt-leader");
  const leases = ns.kc.makeApiClient(k8s.CoordinationV1Api);
  const logger = pino({ level: "silent" });

  function elector(name: string, identity: string, api: LeaseApi = leases): LeaderElector {
    return new LeaderElector({
      api,
      namespace: ns.name,
      name,
      identity,
      logger,
      leaseDurationMs: LONG_LEASE_MS,
      renewDeadlineMs: 10_000,
      retryPeriodMs: RETRY_MS,
    });
  }

  it("lets exactly one of two candidates lead, and hands over at once when the leader stops", async () => {
    const leadership = new Leadership();
    const candidates = new Map([
      ["a", elector("handover", "a")],
      ["b", elector("handover", "b")],
    ]);
    const runs = [...candidates].map(([identity, e]) => e.run(leadership.callbacks(identity)));
    try {
      await eventually(() => leadership.only() !== undefined);
      // Give the follower many chances to (wrongly) take over.
      await pause(10 * RETRY_MS);
      const first = leadership.only();
      expect(first).toBeDefined();
      const lease = await leases.readNamespacedLease({ namespace: ns.name, name: "handover" });
      expect(lease.spec?.holderIdentity).toBe(first);

      await candidates.get(first ?? "")?.stop();
      await eventually(() => leadership.only() !== undefined);
      const second = leadership.only();
      expect(second).not.toBe(first);
      const after = await leases.readNamespacedLease({ namespace: ns.name, name: "handover" });
      expect(after.spec?.holderIdentity).toBe(second);
      expect(after.spec?.leaseTransitions).toBe(1);
      expect(leadership.overlaps).toEqual([]);
    } finally {
      await Promise.all([...candidates.values()].map((e) => e.stop()));
      await Promise.all(runs);
    }
  });

  it.each([
    { name: "both create the missing lease", existing: false },
    { name: "both replace the same free lease", existing: true },
  ])("turns a write conflict into one leader, not two: $name", async ({ existing }) => {
    const leaseName = `collide-${existing ? "replace" : "create"}`;
    if (existing) {
      await leases.createNamespacedLease({ namespace: ns.name, body: { metadata: { name: leaseName }, spec: {} } });
    }
    const leadership = new Leadership();
    const conflicts: string[] = [];
    const allRead = barrier(3);
    const candidates = ["a", "b", "c"].map((identity) => ({
      identity,
      elector: elector(leaseName, identity, collidingApi(leases, allRead, conflicts)),
    }));
    const runs = candidates.map(({ identity, elector: e }) => e.run(leadership.callbacks(identity)));
    try {
      await eventually(() => leadership.only() !== undefined && conflicts.length >= 2);
      await pause(10 * RETRY_MS);
      expect(leadership.leading.size).toBe(1);
      expect(conflicts).toHaveLength(2);
      expect(leadership.overlaps).toEqual([]);
      const lease = await leases.readNamespacedLease({ namespace: ns.name, name: leaseName });
      expect(lease.spec?.holderIdentity).toBe(leadership.only());
    } finally {
      await Promise.all(candidates.map(({ elector: e }) => e.stop()));
      await Promise.all(runs);
    }
  });

  it("steps down when someone else takes the lease from under it", async () => {
    const leadership = new Leadership();
    const a = new LeaderElector({
      api: leases,
      namespace: ns.name,
      name: "usurped",
      identity: "a",
      logger,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 1_000,
      retryPeriodMs: RETRY_MS,
    });
    const run = a.run(leadership.callbacks("a"));
    try {
      await eventually(() => leadership.only() === "a");
      const lease = await leases.readNamespacedLease({ namespace: ns.name, name: "usurped" });
      await leases.replaceNamespacedLease({
        namespace: ns.name,
        name: "usurped",
        body: { ...lease, spec: { ...lease.spec, holderIdentity: "usurper", renewTime: new k8s.V1MicroTime() } },
      });
      await run;
      expect(leadership.leading.size).toBe(0);
      const after = await leases.readNamespacedLease({ namespace: ns.name, name: "usurped" });
      expect(after.spec?.holderIdentity).toBe("usurper");
    } finally {
      await a.stop();
    }
  });
});
