import { performance } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LeaderElectionMetrics } from "./leader.js";
import type { ReconcileOutcome, WorkQueueMetrics } from "./queue.js";

// Names, labels, help texts and buckets are controller-runtime's (pkg/internal/controller/metrics,
// pkg/metrics/workqueue.go, pkg/metrics/leaderelection.go), so that dashboards and alerts written
// for Go operators work unchanged. Its workqueue_depth also has a `priority` label, always empty
// outside its priority queue; Prometheus drops empty labels, so leaving it out changes nothing.

const OUTCOMES: readonly ReconcileOutcome[] = ["success", "error", "requeue", "requeue_after"];

const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0,
  4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

// client-go's ExponentialBuckets(10e-9, 10, 12): 10 ns to 1000 s.
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

export interface ControllerMetricsOptions {
  /** Seconds on a monotonic clock (default: performance.now); tests inject one they move. */
  now?: () => number;
  /** Also export the process's CPU, memory, file descriptors and event loop, as Go operators do. */
  processMetrics?: boolean;
}

type QueueLabels = "name" | "controller";

interface Instruments {
  reconcileTotal: Counter<"controller" | "result">;
  reconcileErrors: Counter<"controller">;
  reconcileTime: Histogram<"controller">;
  maxConcurrent: Gauge<"controller">;
  activeWorkers: Gauge<"controller">;
  depth: Gauge<QueueLabels>;
  adds: Counter<QueueLabels>;
  queueDuration: Histogram<QueueLabels>;
  workDuration: Histogram<QueueLabels>;
  retries: Counter<QueueLabels>;
}

/**
 * One controller's work queue metrics, labelled as controller-runtime labels them: the queue's
 * `name` and its `controller` are both the controller's name. Times are kept per key, as
 * client-go keeps them, so a key's queue duration runs from its first add to its start.
 */
class ControllerQueueMetrics implements WorkQueueMetrics {
  private readonly queue: Record<QueueLabels, string>;
  private readonly controller: Record<"controller", string>;
  private readonly addedAt = new Map<string, number>();
  /** Keys running now, with when each started. */
  private readonly startedAt = new Map<string, number>();

  constructor(
    name: string,
    private readonly instruments: Instruments,
    private readonly now: () => number,
  ) {
    this.queue = { name, controller: name };
    this.controller = { controller: name };
    this.initialise();
  }

  // controller-runtime exports every series at zero from the start, so rates and ratios are
  // defined before the first event.
  private initialise(): void {
    const { controller, queue } = this;
    for (const result of OUTCOMES) this.instruments.reconcileTotal.inc({ ...controller, result }, 0);
    this.instruments.reconcileErrors.inc(controller, 0);
    this.instruments.reconcileTime.zero(controller);
    this.instruments.activeWorkers.set(controller, 0);
    this.instruments.depth.set(queue, 0);
    this.instruments.adds.inc(queue, 0);
    this.instruments.queueDuration.zero(queue);
    this.instruments.workDuration.zero(queue);
    this.instruments.retries.inc(queue, 0);
  }

  workers(concurrency: number): void {
    this.instruments.maxConcurrent.set(this.controller, concurrency);
  }

  added(key: string): void {
    this.instruments.adds.inc(this.queue);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.now());
  }

  depth(due: number): void {
    this.instruments.depth.set(this.queue, due);
  }

  started(key: string): void {
    const now = this.now();
    const addedAt = this.addedAt.get(key);
    if (addedAt !== undefined) {
      this.instruments.queueDuration.observe(this.queue, now - addedAt);
      this.addedAt.delete(key);
    }
    this.startedAt.set(key, now);
    this.instruments.activeWorkers.inc(this.controller);
  }

  finished(key: string, outcome: ReconcileOutcome): void {
    const startedAt = this.startedAt.get(key);
    if (startedAt !== undefined) {
      const seconds = this.now() - startedAt;
      this.instruments.workDuration.observe(this.queue, seconds);
      this.instruments.reconcileTime.observe(this.controller, seconds);
      this.startedAt.delete(key);
    }
    this.instruments.activeWorkers.dec(this.controller);
    this.instruments.reconcileTotal.inc({ ...this.controller, result: outcome });
    if (outcome === "error") this.instruments.reconcileErrors.inc(this.controller);
  }

  retried(): void {
    this.instruments.retries.inc(this.queue);
  }

  /** Seconds of work in progress, in total and of the longest-running key. */
  unfinished(): { total: number; longest: number } {
    const now = this.now();
    let total = 0;
    let longest = 0;
    for (const startedAt of this.startedAt.values()) {
      total += now - startedAt;
      longest = Math.max(longest, now - startedAt);
    }
    return { total, longest };
  }

  get labels(): Record<QueueLabels, string> {
    return this.queue;
  }
}

function monotonicSeconds(): number {
  return performance.now() / 1000;
}

/**
 * The operator's controller metrics, named as controller-runtime names them, in a registry of
 * their own (as the verifier's are) so that two operators in one process do not collide. Give
 * each controller's WorkQueue `metrics.controller(name)`, and the LeaderElector this object.
 */
export class ControllerMetrics implements LeaderElectionMetrics {
  readonly registry = new Registry();
  private readonly instruments: Instruments;
  private readonly queues: ControllerQueueMetrics[] = [];
  private readonly leader: Gauge<"name">;
  private readonly now: () => number;

  constructor(options: ControllerMetricsOptions = {}) {
    this.now = options.now ?? monotonicSeconds;
    this.instruments = this.controllerInstruments();
    this.workQueueProgress();
    this.leader = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
      labelNames: ["name"],
      registers: [this.registry],
    });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** The hooks of one controller's WorkQueue (ask once per controller); its series appear at once, at zero. */
  controller(name: string): WorkQueueMetrics {
    const queue = new ControllerQueueMetrics(name, this.instruments, this.now);
    this.queues.push(queue);
    return queue;
  }

  leaderStatus(lease: string, leading: boolean): void {
    this.leader.set({ name: lease }, leading ? 1 : 0);
  }

  private controllerInstruments(): Instruments {
    const registers = [this.registry];
    const controller = ["controller"] as const;
    const queue = ["name", "controller"] as const;
    return {
      reconcileTotal: new Counter({
        name: "controller_runtime_reconcile_total",
        help: "Total number of reconciliations per controller",
        labelNames: ["controller", "result"],
        registers,
      }),
      reconcileErrors: new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames: controller, registers }),
      reconcileTime: new Histogram({
        name: "controller_runtime_reconcile_time_seconds",
        help: "Length of time per reconciliation per controller",
        labelNames: controller,
        buckets: RECONCILE_TIME_BUCKETS,
        registers,
      }),
      maxConcurrent: new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Maximum number of concurrent reconciles per controller", labelNames: controller, registers }),
      activeWorkers: new Gauge({ name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames: controller, registers }),
      depth: new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue by workqueue and priority", labelNames: queue, registers }),
      adds: new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: queue, registers }),
      queueDuration: new Histogram({
        name: "workqueue_queue_duration_seconds",
        help: "How long in seconds an item stays in workqueue before being requested",
        labelNames: queue,
        buckets: QUEUE_BUCKETS,
        registers,
      }),
      workDuration: new Histogram({
        name: "workqueue_work_duration_seconds",
        help: "How long in seconds processing an item from workqueue takes.",
        labelNames: queue,
        buckets: QUEUE_BUCKETS,
        registers,
      }),
      retries: new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: queue, registers }),
    };
  }

  // client-go refreshes these every 500 ms from a ticker; computing them at scrape time gives
  // the same numbers without a timer.
  private workQueueProgress(): void {
    const queues = this.queues;
    const registers = [this.registry];
    const labelNames = ["name", "controller"] as const;
    new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames,
      registers,
      collect() {
        for (const queue of queues) this.set(queue.labels, queue.unfinished().total);
      },
    });
    new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running.",
      labelNames,
      registers,
      collect() {
        for (const queue of queues) this.set(queue.labels, queue.unfinished().longest);
      },
    });
  }
}
