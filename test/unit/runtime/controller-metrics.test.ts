import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "../../../src/runtime/controller-metrics.js";
import { LeaderElector } from "../../../src/runtime/leader.js";
import { type KeyHandler, WorkQueue } from "../../../src/runtime/queue.js";
import { FakeLeaseApi } from "./fake-lease-api.js";
import { ManualClock, settle } from "./manual-clock.js";
import { helps, samples, types, value } from "./metrics-exposition.js";

const logger = pino({ level: "silent" });
const CONTROLLER = "accesskey";
const QUEUE = { name: CONTROLLER, controller: CONTROLLER };
const OF_CONTROLLER = { controller: CONTROLLER };

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

/** A real WorkQueue and its metrics, both on one manual clock. */
function setup(handler: KeyHandler, concurrency = 1) {
  const clock = new ManualClock();
  const metrics = new ControllerMetrics({ now: () => clock.now() / 1000 });
  const queue = new WorkQueue({
    handler,
    onError: () => undefined,
    logger,
    clock,
    concurrency,
    backoff: { baseMs: 500, capMs: 500 },
    metrics: metrics.controller(CONTROLLER),
  });
  return { clock, metrics, queue, text: () => metrics.registry.metrics() };
}

function bucketBounds(text: string, histogram: string): number[] {
  return samples(text)
    .filter((sample) => sample.name === `${histogram}_bucket`)
    .map((sample) => (sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le)));
}

function reconciles(text: string): Record<string, number> {
  return Object.fromEntries(
    ["success", "error", "requeue", "requeue_after"].map((result) => [result, value(text, "controller_runtime_reconcile_total", { ...OF_CONTROLLER, result })]),
  );
}

describe("ControllerMetrics", () => {
  it("exports controller-runtime's metric names, types and help texts", async () => {
    const { metrics } = setup(() => Promise.resolve());
    metrics.leaderStatus("keygate-operator", false);
    const text = await metrics.registry.metrics();
    expect(types(text)).toEqual({
      controller_runtime_reconcile_total: "counter",
      controller_runtime_reconcile_errors_total: "counter",
      controller_runtime_reconcile_time_seconds: "histogram",
      controller_runtime_max_concurrent_reconciles: "gauge",
      controller_runtime_active_workers: "gauge",
      workqueue_depth: "gauge",
      workqueue_adds_total: "counter",
      workqueue_queue_duration_seconds: "histogram",
      workqueue_work_duration_seconds: "histogram",
      workqueue_retries_total: "counter",
      workqueue_unfinished_work_seconds: "gauge",
      workqueue_longest_running_processor_seconds: "gauge",
      leader_election_master_status: "gauge",
    });
    expect(helps(text)).toMatchObject({
      controller_runtime_reconcile_total: "Total number of reconciliations per controller",
      workqueue_queue_duration_seconds: "How long in seconds an item stays in workqueue before being requested",
      workqueue_work_duration_seconds: "How long in seconds processing an item from workqueue takes.",
    });
  });

  it("exports every series of a controller at zero before anything happens", async () => {
    const { text } = setup(() => Promise.resolve(), 4);
    const exposition = await text();
    expect(reconciles(exposition)).toEqual({ success: 0, error: 0, requeue: 0, requeue_after: 0 });
    expect(value(exposition, "controller_runtime_reconcile_errors_total", OF_CONTROLLER)).toBe(0);
    expect(value(exposition, "controller_runtime_reconcile_time_seconds_count", OF_CONTROLLER)).toBe(0);
    expect(value(exposition, "controller_runtime_max_concurrent_reconciles", OF_CONTROLLER)).toBe(4);
    expect(value(exposition, "controller_runtime_active_workers", OF_CONTROLLER)).toBe(0);
    for (const name of ["workqueue_depth", "workqueue_adds_total", "workqueue_retries_total", "workqueue_queue_duration_seconds_count", "workqueue_work_duration_seconds_count"]) {
      expect(value(exposition, name, QUEUE), name).toBe(0);
    }
  });

  it("uses controller-runtime's buckets: 40 for reconcile time, 10 ns to 1000 s for the queue", async () => {
    const exposition = await setup(() => Promise.resolve()).text();
    const reconcileTime = bucketBounds(exposition, "controller_runtime_reconcile_time_seconds");
    expect(reconcileTime).toHaveLength(41);
    expect(reconcileTime.slice(0, 3)).toEqual([0.005, 0.01, 0.025]);
    expect(reconcileTime.slice(-2)).toEqual([60, Infinity]);
    const queue = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000, Infinity];
    expect(bucketBounds(exposition, "workqueue_queue_duration_seconds")).toEqual(queue);
    expect(bucketBounds(exposition, "workqueue_work_duration_seconds")).toEqual(queue);
  });

  it("counts an add once until a worker takes the key, and the keys waiting as depth", async () => {
    const busy = gate();
    const { clock, queue, text } = setup(async (key) => {
      if (key === "ns/busy") await busy.promise;
    });
    queue.add("ns/busy");
    await settle();
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    let exposition = await text();
    expect(value(exposition, "workqueue_adds_total", QUEUE)).toBe(3);
    expect(value(exposition, "workqueue_depth", QUEUE)).toBe(2);
    expect(value(exposition, "controller_runtime_active_workers", OF_CONTROLLER)).toBe(1);

    await clock.advance(2000);
    busy.open();
    await settle();
    exposition = await text();
    expect(value(exposition, "workqueue_depth", QUEUE)).toBe(0);
    expect(value(exposition, "controller_runtime_active_workers", OF_CONTROLLER)).toBe(0);
    expect(reconciles(exposition)).toEqual({ success: 3, error: 0, requeue: 0, requeue_after: 0 });
    // ns/a and ns/b waited the 2 s ns/busy ran; ns/busy itself was taken at once.
    expect(value(exposition, "workqueue_queue_duration_seconds_count", QUEUE)).toBe(3);
    expect(value(exposition, "workqueue_queue_duration_seconds_sum", QUEUE)).toBe(4);
    expect(value(exposition, "workqueue_queue_duration_seconds_bucket", { ...QUEUE, le: "1" })).toBe(1);
    expect(value(exposition, "workqueue_work_duration_seconds_sum", QUEUE)).toBe(2);
    expect(value(exposition, "controller_runtime_reconcile_time_seconds_count", OF_CONTROLLER)).toBe(3);
    expect(value(exposition, "controller_runtime_reconcile_time_seconds_sum", OF_CONTROLLER)).toBe(2);
  });

  it("counts a key added while it runs as waiting, and times its wait from that add", async () => {
    const running = gate();
    let runs = 0;
    const { clock, queue, text } = setup(async () => {
      if (runs++ === 0) await running.promise;
    });
    queue.add("ns/a");
    await settle();
    await clock.advance(1000);
    queue.add("ns/a");
    expect(value(await text(), "workqueue_depth", QUEUE)).toBe(1);
    await clock.advance(3000);
    running.open();
    await settle();
    const exposition = await text();
    expect(value(exposition, "workqueue_adds_total", QUEUE)).toBe(2);
    expect(value(exposition, "workqueue_queue_duration_seconds_sum", QUEUE)).toBe(3);
    expect(runs).toBe(2);
  });

  it("counts an error as a reconcile error and its backoff as a retry, then the success", async () => {
    let calls = 0;
    const { clock, text } = setupWith(() => (calls++ === 0 ? Promise.reject(new Error("API server unavailable")) : Promise.resolve()));
    await settle();
    let exposition = await text();
    expect(reconciles(exposition)).toEqual({ success: 0, error: 1, requeue: 0, requeue_after: 0 });
    expect(value(exposition, "controller_runtime_reconcile_errors_total", OF_CONTROLLER)).toBe(1);
    expect(value(exposition, "workqueue_retries_total", QUEUE)).toBe(1);
    expect(value(exposition, "workqueue_adds_total", QUEUE)).toBe(1);

    await clock.advance(500);
    exposition = await text();
    expect(reconciles(exposition)).toEqual({ success: 1, error: 1, requeue: 0, requeue_after: 0 });
    expect(value(exposition, "controller_runtime_reconcile_errors_total", OF_CONTROLLER)).toBe(1);
    // The retry comes back through an add, as client-go's delayed adds do.
    expect(value(exposition, "workqueue_adds_total", QUEUE)).toBe(2);
    expect(value(exposition, "workqueue_retries_total", QUEUE)).toBe(1);
  });

  it("counts a requeue-after as requeue_after and, as controller-runtime does, as a retry", async () => {
    const { text } = setupWith(() => Promise.resolve({ requeueAfterMs: 60_000 }));
    await settle();
    const exposition = await text();
    expect(reconciles(exposition)).toEqual({ success: 0, error: 0, requeue: 0, requeue_after: 1 });
    expect(value(exposition, "workqueue_retries_total", QUEUE)).toBe(1);
    expect(value(exposition, "controller_runtime_reconcile_errors_total", OF_CONTROLLER)).toBe(0);
  });

  it("counts an immediate requeue as requeue", async () => {
    let calls = 0;
    const { text } = setupWith(() => Promise.resolve(calls++ === 0 ? { requeueAfterMs: 0 } : undefined));
    await settle();
    const exposition = await text();
    expect(reconciles(exposition)).toEqual({ success: 1, error: 0, requeue: 1, requeue_after: 0 });
    expect(value(exposition, "workqueue_retries_total", QUEUE)).toBe(0);
  });

  it("reports the work in progress: its total seconds and the longest run's", async () => {
    const hold = gate();
    const { clock, queue, text } = setup(() => hold.promise, 2);
    queue.add("ns/a");
    await clock.advance(1000);
    queue.add("ns/b");
    await clock.advance(2000);
    let exposition = await text();
    expect(value(exposition, "workqueue_unfinished_work_seconds", QUEUE)).toBe(5);
    expect(value(exposition, "workqueue_longest_running_processor_seconds", QUEUE)).toBe(3);
    expect(value(exposition, "controller_runtime_active_workers", OF_CONTROLLER)).toBe(2);
    hold.open();
    await settle();
    exposition = await text();
    expect(value(exposition, "workqueue_unfinished_work_seconds", QUEUE)).toBe(0);
    expect(value(exposition, "workqueue_longest_running_processor_seconds", QUEUE)).toBe(0);
  });

  it("clears the depth when the queue shuts down", async () => {
    const hold = gate();
    const { queue, text } = setup(() => hold.promise);
    queue.add("ns/a");
    await settle();
    queue.add("ns/b");
    expect(value(await text(), "workqueue_depth", QUEUE)).toBe(1);
    const stopped = queue.shutdown();
    hold.open();
    await stopped;
    expect(value(await text(), "workqueue_depth", QUEUE)).toBe(0);
  });

  it("adds the process's own metrics when asked, as Go operators export theirs", async () => {
    const names = Object.keys(types(await new ControllerMetrics({ processMetrics: true }).registry.metrics()));
    expect(names).toEqual(expect.arrayContaining(["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"]));
    expect(Object.keys(types(await new ControllerMetrics().registry.metrics()))).not.toContain("process_cpu_seconds_total");
  });

  it("labels each controller's series with its own name", async () => {
    const clock = new ManualClock();
    const metrics = new ControllerMetrics({ now: () => clock.now() / 1000 });
    for (const name of ["accesskey", "mfadevice"]) {
      const queue = new WorkQueue({ handler: () => Promise.resolve(), onError: () => undefined, logger, clock, metrics: metrics.controller(name) });
      queue.add("ns/x");
      if (name === "mfadevice") queue.add("ns/y");
    }
    await settle();
    const exposition = await metrics.registry.metrics();
    expect(value(exposition, "workqueue_adds_total", { name: "accesskey", controller: "accesskey" })).toBe(1);
    expect(value(exposition, "workqueue_adds_total", { name: "mfadevice", controller: "mfadevice" })).toBe(2);
    expect(value(exposition, "controller_runtime_reconcile_total", { controller: "mfadevice", result: "success" })).toBe(2);
  });
});

describe("leader_election_master_status", () => {
  it("is 0 while campaigning, 1 while leading and 0 again once stepped down", async () => {
    const clock = new ManualClock();
    const api = new FakeLeaseApi();
    const metrics = new ControllerMetrics();
    const status = async (): Promise<number> => value(await metrics.registry.metrics(), "leader_election_master_status", { name: "keygate-operator" });
    api.down = true;
    const elector = new LeaderElector({ api, namespace: "ns", name: "keygate-operator", identity: "a", logger, clock, metrics });
    const done = elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    await clock.advance(0);
    expect(await status()).toBe(0);
    api.down = false;
    await clock.advance(2000);
    expect(await status()).toBe(1);
    await elector.stop();
    await done;
    expect(await status()).toBe(0);
  });
});

/** setup() with one key already added. */
function setupWith(handler: KeyHandler) {
  const env = setup(handler);
  env.queue.add("ns/a");
  return env;
}
