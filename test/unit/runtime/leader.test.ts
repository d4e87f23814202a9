import type { V1Lease } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { LeaderElector, type LeaderElectorOptions } from "../../../src/runtime/leader.js";
import { FakeLeaseApi } from "./fake-lease-api.js";
import { ManualClock, settle } from "./manual-clock.js";

const logger = pino({ level: "silent" });
const LEASE_MS = 15_000;
const DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;

interface Candidate {
  elector: LeaderElector;
  done: Promise<void>;
  startedAt: number[];
  stoppedAt: number[];
  signal: () => AbortSignal | undefined;
}

function candidate(
  identity: string,
  env: { api: FakeLeaseApi; clock: ManualClock },
  overrides: Partial<LeaderElectorOptions> & { onStopped?: () => Promise<void> } = {},
): Candidate {
  const elector = new LeaderElector({
    api: env.api,
    namespace: "ns",
    name: "lease",
    identity,
    logger,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: DEADLINE_MS,
    retryPeriodMs: RETRY_MS,
    clock: env.clock,
    ...overrides,
  });
  const startedAt: number[] = [];
  const stoppedAt: number[] = [];
  let signal: AbortSignal | undefined;
  const done = elector.run({
    onStartedLeading: (s) => {
      signal = s;
      startedAt.push(env.clock.now());
    },
    onStoppedLeading: () => {
      stoppedAt.push(env.clock.now());
      return overrides.onStopped?.();
    },
  });
  return { elector, done, startedAt, stoppedAt, signal: () => signal };
}

function setup() {
  return { api: new FakeLeaseApi(), clock: new ManualClock() };
}

function spec(lease: V1Lease | undefined) {
  return lease?.spec ?? {};
}

describe("LeaderElector", () => {
  it("creates the lease when there is none and leads at once", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    expect(a.startedAt).toEqual([0]);
    expect(spec(env.api.stored)).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0 });
    await a.elector.stop();
  });

  it("renews every retry period, keeping its acquire time", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    const first = spec(env.api.stored);
    await env.clock.advance(RETRY_MS);
    const second = spec(env.api.stored);
    expect(second.acquireTime).toEqual(first.acquireTime);
    expect(String(second.renewTime)).not.toEqual(String(first.renewTime));
    expect(second.leaseTransitions).toBe(0);
    await a.elector.stop();
  });

  it("writes lease times with microseconds, as the API server's MicroTime requires", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    expect(String(spec(env.api.stored).renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await a.elector.stop();
  });

  it("waits a full lease duration on its own clock before taking a lease whose holder went silent", async () => {
    const env = setup();
    // A renew time far in the past must not shorten the wait: another clock wrote it.
    env.api.write({ holderIdentity: "gone", renewTime: "2000-01-01T00:00:00.000000Z" as never, leaseDurationSeconds: 15, leaseTransitions: 4 });
    const b = candidate("b", env);
    await env.clock.advance(LEASE_MS - 1);
    expect(b.startedAt).toEqual([]);
    await env.clock.advance(RETRY_MS);
    expect(b.startedAt).toEqual([16_000]);
    expect(spec(env.api.stored)).toMatchObject({ holderIdentity: "b", leaseTransitions: 5 });
    await b.elector.stop();
  });

  it("never takes a lease its holder keeps renewing", async () => {
    const env = setup();
    const b = candidate("b", env);
    for (let t = 0; t < 60_000; t += 5_000) {
      env.api.write({ holderIdentity: "alive", renewTime: new Date(t).toISOString() as never, leaseDurationSeconds: 15 });
      await env.clock.advance(5_000);
    }
    expect(b.startedAt).toEqual([]);
    expect(env.api.holder()).toBe("alive");
    await b.elector.stop();
  });

  it("steps down when it cannot renew before the deadline, before anyone else may take over", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    env.api.down = true;
    await env.clock.advance(DEADLINE_MS - 1);
    expect(a.stoppedAt).toEqual([]);
    await env.clock.advance(RETRY_MS);
    await a.done;
    const [stoppedAt] = a.stoppedAt;
    expect(stoppedAt).toBeDefined();
    // The last renewal was at 0; others wait a lease duration from when they saw it.
    expect(stoppedAt).toBeLessThan(LEASE_MS);
    expect(a.signal()?.aborted).toBe(true);
  });

  it("steps down at the deadline when a renewal hangs instead of failing", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    env.api.hang = true;
    await env.clock.advance(DEADLINE_MS);
    await a.done;
    expect(a.stoppedAt).toEqual([DEADLINE_MS]);
  });

  it("keeps leading through failures shorter than the renew deadline", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    env.api.down = true;
    await env.clock.advance(3 * RETRY_MS);
    env.api.down = false;
    await env.clock.advance(DEADLINE_MS * 3);
    expect(a.stoppedAt).toEqual([]);
    expect(env.api.holder()).toBe("a");
    await a.elector.stop();
  });

  it("on stop releases the lease only after onStoppedLeading has finished", async () => {
    const env = setup();
    let finish = (): void => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const a = candidate("a", env, { onStopped: () => finished });
    await env.clock.advance(0);
    const stopped = a.elector.stop();
    await settle();
    expect(a.stoppedAt).toHaveLength(1);
    expect(env.api.holder()).toBe("a");
    finish();
    await stopped;
    expect(env.api.holder()).toBeUndefined();
    expect(a.signal()?.aborted).toBe(true);
  });

  it("hands over to a waiting candidate at its next attempt once the leader releases", async () => {
    const env = setup();
    const a = candidate("a", env);
    await env.clock.advance(0);
    const b = candidate("b", env);
    await env.clock.advance(4 * RETRY_MS);
    expect(b.startedAt).toEqual([]);
    const releasedAt = env.clock.now();
    await a.elector.stop();
    await env.clock.advance(RETRY_MS);
    expect(b.startedAt).toEqual([releasedAt + RETRY_MS]);
    expect(spec(env.api.stored)).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.elector.stop();
  });

  it("does not lead when another write lands between its read and its write", async () => {
    const env = setup();
    env.api.write({ holderIdentity: "", leaseTransitions: 0 });
    const read = env.api.readNamespacedLease.bind(env.api);
    let interfere = true;
    env.api.readNamespacedLease = async (request) => {
      const lease = await read(request);
      if (interfere) {
        interfere = false;
        env.api.write({ holderIdentity: "rival", renewTime: new Date(0).toISOString() as never, leaseDurationSeconds: 15 });
      }
      return lease;
    };
    const b = candidate("b", env);
    await env.clock.advance(RETRY_MS);
    expect(b.startedAt).toEqual([]);
    expect(env.api.holder()).toBe("rival");
    await b.elector.stop();
  });

  it("does not lead when another candidate creates the lease first", async () => {
    const env = setup();
    const create = env.api.createNamespacedLease.bind(env.api);
    env.api.createNamespacedLease = (request) => {
      env.api.write({ holderIdentity: "rival", leaseDurationSeconds: 15 });
      return create(request);
    };
    const b = candidate("b", env);
    await env.clock.advance(0);
    expect(b.startedAt).toEqual([]);
    expect(env.api.holder()).toBe("rival");
    await b.elector.stop();
  });

  it("stops campaigning when stopped before it leads, without calling either callback", async () => {
    const env = setup();
    env.api.write({ holderIdentity: "other", leaseDurationSeconds: 15 });
    const b = candidate("b", env);
    await env.clock.advance(RETRY_MS);
    await b.elector.stop();
    await b.done;
    expect(b.startedAt).toEqual([]);
    expect(b.stoppedAt).toEqual([]);
    expect(env.api.holder()).toBe("other");
  });

  it.each([
    { name: "a renew deadline as long as the lease", lease: 10_000, deadline: 10_000, retry: 2_000 },
    { name: "a retry period as long as the renew deadline", lease: 15_000, deadline: 2_000, retry: 2_000 },
    { name: "a retry period of zero", lease: 15_000, deadline: 10_000, retry: 0 },
  ])("refuses timings that could leave two leaders: $name", ({ lease, deadline, retry }) => {
    expect(
      () =>
        new LeaderElector({
          api: new FakeLeaseApi(),
          namespace: "ns",
          name: "lease",
          identity: "a",
          logger,
          leaseDurationMs: lease,
          renewDeadlineMs: deadline,
          retryPeriodMs: retry,
        }),
    ).toThrow(RangeError);
  });
});
