import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type KeyHandler, type ReconcileResult, WorkQueue, type WorkQueueOptions } from "../../../src/runtime/queue.js";
import { ManualClock, settle } from "./manual-clock.js";

const logger = pino({ level: "silent" });

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface Failure {
  key: string;
  error: unknown;
  attempt: number;
}

function makeQueue(handler: KeyHandler, options: Partial<WorkQueueOptions> = {}) {
  const clock = new ManualClock();
  const failures: Failure[] = [];
  const queue = new WorkQueue({
    handler,
    onError: (key, error, attempt) => failures.push({ key, error, attempt }),
    logger,
    clock,
    ...options,
  });
  return { queue, clock, failures };
}

/** A queue recording the keys it runs, whose key "ns/busy" holds its worker until busy.open(). */
function queueBehindBusyKey() {
  const busy = gate();
  const runs: string[] = [];
  const { queue } = makeQueue(async (key) => {
    runs.push(key);
    if (key === "ns/busy") await busy.promise;
  });
  return { queue, runs, busy };
}

describe("WorkQueue", () => {
  it("runs a key queued several times while it waits once", async () => {
    const { queue, runs, busy } = queueBehindBusyKey();
    queue.add("ns/busy");
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    await settle();
    expect(queue.depth()).toBe(2);
    busy.open();
    await settle();
    expect(runs).toEqual(["ns/busy", "ns/a", "ns/b"]);
  });

  it("takes background keys only when no event is waiting, and moves one ahead when an event comes for it", async () => {
    const { queue, runs, busy } = queueBehindBusyKey();
    queue.add("ns/busy");
    for (const key of ["ns/sweep-1", "ns/sweep-2", "ns/sweep-3"]) queue.add(key, "background");
    queue.add("ns/new");
    queue.add("ns/sweep-3");
    queue.add("ns/sweep-1", "background");
    expect(queue.depth()).toBe(4);
    busy.open();
    await settle();
    expect(runs).toEqual(["ns/busy", "ns/new", "ns/sweep-3", "ns/sweep-1", "ns/sweep-2"]);
  });

  it("runs a key added while it is being handled once more afterwards, never at the same time", async () => {
    const gates = [gate(), gate()];
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const { queue } = makeQueue(
      async () => {
        const current = gates[runs++];
        running++;
        maxRunning = Math.max(maxRunning, running);
        await current?.promise;
        running--;
      },
      { concurrency: 4 },
    );
    queue.add("ns/a");
    await settle();
    queue.add("ns/a");
    queue.add("ns/a");
    await settle();
    expect(runs).toBe(1);
    gates[0]?.open();
    await settle();
    expect(runs).toBe(2);
    gates[1]?.open();
    await settle();
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it("lets a handler re-add its own key without running it twice at once", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const { queue } = makeQueue(
      async (key) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (++runs < 3) queue.add(key);
        await settle();
        running--;
      },
      { concurrency: 2 },
    );
    queue.add("ns/a");
    for (let i = 0; i < 5; i++) await settle();
    expect(runs).toBe(3);
    expect(maxRunning).toBe(1);
  });

  it("handles no more keys at once than its concurrency", async () => {
    const open = gate();
    const { queue } = makeQueue(() => open.promise, { concurrency: 2 });
    for (const key of ["ns/a", "ns/b", "ns/c", "ns/d", "ns/e"]) queue.add(key);
    await settle();
    expect(queue.inFlight()).toBe(2);
    expect(queue.depth()).toBe(3);
    open.open();
    await settle();
    expect(queue.inFlight()).toBe(0);
    expect(queue.depth()).toBe(0);
  });

  it("reports every failure with its attempt number and retries with doubling delays up to the cap", async () => {
    const runAt: number[] = [];
    const boom = new Error("boom");
    const { queue, clock, failures } = makeQueue(
      () => {
        runAt.push(clock.now());
        return Promise.reject(boom);
      },
      { backoff: { baseMs: 100, capMs: 1000 } },
    );
    queue.add("ns/a");
    await clock.advance(5000);
    const delays = runAt.slice(1).map((at, i) => at - (runAt[i] ?? 0));
    expect(delays.slice(0, 7)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(failures.slice(0, 3)).toEqual([
      { key: "ns/a", error: boom, attempt: 1 },
      { key: "ns/a", error: boom, attempt: 2 },
      { key: "ns/a", error: boom, attempt: 3 },
    ]);
  });

  it("treats a handler that throws before returning a promise as a failure", async () => {
    const { queue, clock, failures } = makeQueue(
      () => {
        throw new Error("synchronous");
      },
      { backoff: { baseMs: 100, capMs: 100 } },
    );
    queue.add("ns/a");
    await clock.advance(150);
    expect(failures.map((f) => f.attempt)).toEqual([1, 2]);
  });

  it("starts the backoff over after a success", async () => {
    const results = ["fail", "fail", "ok", "fail"];
    const runAt: number[] = [];
    const { queue, clock } = makeQueue(
      () => {
        runAt.push(clock.now());
        return results.shift() === "fail" ? Promise.reject(new Error("no")) : Promise.resolve();
      },
      { backoff: { baseMs: 100, capMs: 10_000 } },
    );
    queue.add("ns/a");
    await clock.advance(300);
    expect(runAt).toEqual([0, 100, 300]);
    queue.add("ns/a");
    await clock.advance(1000);
    expect(runAt.slice(3)).toEqual([300, 400]);
  });

  it("keeps the backoff of each key to itself", async () => {
    const runs: Array<[string, number]> = [];
    const { queue, clock } = makeQueue(
      (key) => {
        runs.push([key, clock.now()]);
        return Promise.reject(new Error("no"));
      },
      { backoff: { baseMs: 100, capMs: 10_000 } },
    );
    queue.add("ns/old");
    await clock.advance(350);
    queue.add("ns/new");
    await clock.advance(100);
    expect(runs.filter(([key]) => key === "ns/new")).toEqual([
      ["ns/new", 350],
      ["ns/new", 450],
    ]);
  });

  it("forget() resets a key's backoff", async () => {
    const runAt: number[] = [];
    const { queue, clock } = makeQueue(
      () => {
        runAt.push(clock.now());
        return Promise.reject(new Error("no"));
      },
      { backoff: { baseMs: 100, capMs: 10_000 } },
    );
    queue.add("ns/a");
    await clock.advance(100);
    expect(runAt).toEqual([0, 100]);
    queue.forget("ns/a");
    await clock.advance(1000);
    // The retry already scheduled (200 ms) stands; the one after it starts from the base again.
    expect(runAt.slice(2, 4)).toEqual([300, 400]);
  });

  it("runs a key again after the delay its handler asked for, and not before", async () => {
    const runAt: number[] = [];
    const answers: Array<ReconcileResult | undefined> = [{ requeueAfterMs: 5000 }];
    const { queue, clock } = makeQueue(() => {
      runAt.push(clock.now());
      return Promise.resolve(answers.shift());
    });
    queue.add("ns/a");
    await clock.advance(4999);
    expect(runAt).toEqual([0]);
    await clock.advance(1);
    expect(runAt).toEqual([0, 5000]);
    await clock.advance(60_000);
    expect(runAt).toEqual([0, 5000]);
  });

  it.each([
    { name: "a shorter delay asked later replaces a longer one", first: 5000, second: 1000 },
    { name: "a longer delay asked later leaves the shorter one", first: 1000, second: 5000 },
  ])("keeps the earliest of two pending delays: $name", async ({ first, second }) => {
    const runAt: number[] = [];
    const { queue, clock } = makeQueue(() => {
      runAt.push(clock.now());
      return Promise.resolve();
    });
    queue.addAfter("ns/a", first);
    queue.addAfter("ns/a", second);
    await clock.advance(10_000);
    expect(runAt).toEqual([1000]);
  });

  it("does not let a pending delay stop an immediate add", async () => {
    const runAt: number[] = [];
    const { queue, clock } = makeQueue(() => {
      runAt.push(clock.now());
      return Promise.resolve();
    });
    queue.addAfter("ns/a", 1000);
    queue.add("ns/a");
    await clock.advance(2000);
    expect(runAt).toEqual([0, 1000]);
  });

  it("on shutdown waits for in-flight keys, drops pending and delayed ones, and refuses new ones", async () => {
    const open = gate();
    const runs: string[] = [];
    const { queue, clock } = makeQueue(async (key) => {
      runs.push(key);
      await open.promise;
    });
    queue.add("ns/running");
    queue.add("ns/pending");
    queue.addAfter("ns/delayed", 100);
    await settle();
    let drained = false;
    const shutdown = queue.shutdown().then(() => {
      drained = true;
    });
    queue.add("ns/late");
    await clock.advance(1000);
    expect(drained).toBe(false);
    open.open();
    await shutdown;
    await clock.advance(1000);
    expect(runs).toEqual(["ns/running"]);
    expect(clock.pending()).toBe(0);
  });

  it("still reports a failure that ends after shutdown, without retrying it", async () => {
    const open = gate();
    let runs = 0;
    const { queue, clock, failures } = makeQueue(async () => {
      runs++;
      await open.promise;
      throw new Error("late");
    });
    queue.add("ns/a");
    await settle();
    const shutdown = queue.shutdown();
    open.open();
    await shutdown;
    await clock.advance(60_000);
    expect(failures.map((f) => f.attempt)).toEqual([1]);
    expect(runs).toBe(1);
  });

  it("keeps working when the error reporter itself throws", async () => {
    let runs = 0;
    const queue = new WorkQueue({
      handler: () => (++runs === 1 ? Promise.reject(new Error("first")) : Promise.resolve()),
      onError: () => {
        throw new Error("reporter");
      },
      logger,
      clock: new ManualClock(),
    });
    queue.add("ns/a");
    await settle();
    queue.add("ns/b");
    await settle();
    expect(runs).toBe(2);
  });

  it("refuses a concurrency that is not a positive integer", () => {
    expect(() => makeQueue(() => Promise.resolve(), { concurrency: 0 })).toThrow(RangeError);
  });
});
