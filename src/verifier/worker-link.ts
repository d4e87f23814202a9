import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { ReplayClaim, ReplayStore, ReplayVerdict } from "../replay/store.js";
import type { AccessKeyRef } from "./key-table.js";
import type { Flush, LastUsed } from "./last-used.js";
import type { ShownLastUse } from "./last-used-patch.js";
import { type MetricSources, VerifierMetrics } from "./metrics.js";

// The messages between the primary of `keygate verifier --workers N` and its workers (Node's
// cluster IPC channel, JSON). Every one carries `kg`, so that cluster's and prom-client's own
// messages on the same channel are told apart and ignored.

/** A worker's metrics, as prom-client's getMetricsAsJSON gives them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export type ToPrimary =
  | { readonly kg: "claim"; readonly id: number; readonly claim: ReplayClaim }
  | { readonly kg: "last-used"; readonly target: AccessKeyRef; readonly usage: LastUsed; readonly shownMs: number | undefined }
  | { readonly kg: "ready" }
  | { readonly kg: "pod-metrics"; readonly id: number }
  | { readonly kg: "metrics-json"; readonly id: number; readonly metrics: MetricsJson }
  | { readonly kg: "bye" };

export type ToWorker =
  | { readonly kg: "claim"; readonly id: number; readonly verdict: ReplayVerdict }
  | { readonly kg: "pod-ready"; readonly ready: boolean }
  | { readonly kg: "pod-metrics"; readonly id: number; readonly text: string }
  | { readonly kg: "metrics-json"; readonly id: number }
  | { readonly kg: "stop" };

/** The IPC channel of a cluster worker (`process`), or a fake in tests. */
export interface Channel {
  send(message: ToPrimary): void;
  onMessage(handler: (message: ToWorker) => void): void;
  /** Resolves once every message sent before has left this process. */
  flush(): Promise<void>;
}

export function isKeygateMessage(message: unknown): message is { kg: string } {
  return typeof message === "object" && message !== null && typeof (message as { kg?: unknown }).kg === "string";
}

/** This process's IPC channel to the cluster primary. */
export function processChannel(): Channel {
  return {
    send: (message) => {
      if (process.connected) process.send?.(message);
    },
    onMessage: (handler) => {
      process.on("message", (message: unknown) => {
        if (isKeygateMessage(message)) handler(message as ToWorker);
      });
    },
    // Messages leave in order: once the last one is out, so are all before it.
    flush: () =>
      new Promise((resolve) => {
        if (!process.connected || process.send === undefined) return resolve();
        process.send({ kg: "bye" } satisfies ToPrimary, undefined, undefined, () => resolve());
      }),
  };
}

// The primary answers a claim from memory at once; past this, the worker refuses the request
// rather than hold it (a primary that stopped answering is as good as a replay store that is down).
const CLAIM_TIMEOUT_MS = 2_000;
const METRICS_TIMEOUT_MS = 5_000;

/** Gauges that are the same in every worker, or only meaningful for the whole Pod, are not summed. */
const POD_AGGREGATORS: Record<string, "max" | "min"> = {
  keygate_verifier_index_keys: "max",
  keygate_verifier_index_ready: "min",
  keygate_verifier_replay_store_up: "min",
};

/** Marks how the primary combines each metric of the workers' (summed unless named above). */
export function forPod(metrics: MetricsJson): MetricsJson {
  return metrics.map((metric) => {
    const aggregator = POD_AGGREGATORS[metric.name];
    return aggregator === undefined ? metric : { ...metric, aggregator };
  });
}

class Pending<T> {
  private next = 0;
  private readonly waiting = new Map<number, (value: T) => void>();

  open(timeoutMs: number, fallback: T): { id: number; answer: Promise<T> } {
    const id = this.next++;
    const answer = new Promise<T>((resolve) => {
      const timer = setTimeout(() => this.settle(id, fallback), timeoutMs);
      this.waiting.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
    return { id, answer };
  }

  settle(id: number, value: T): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(value);
  }
}

/**
 * A worker's side of the Pod: what the workers must share goes through the primary. The replay
 * store (in memory) is the primary's, so that a nonce is used once across all workers; last uses
 * are written by the primary alone, so that no two workers write one key's status; /readyz says
 * ready only while every worker is; /metrics shows the whole Pod.
 */
export class WorkerLink {
  private ready = false;
  private readonly claims = new Pending<ReplayVerdict>();
  private readonly podMetrics = new Pending<string | undefined>();
  private ownMetrics: (() => Promise<MetricsJson>) | undefined;
  private stopHandler: (() => void) | undefined;

  constructor(private readonly channel: Channel) {
    channel.onMessage((message) => this.receive(message));
  }

  /** Ready while every worker of the Pod has synced its index (as the primary last said). */
  podReady(): boolean {
    return this.ready;
  }

  /** This worker's index has synced. */
  reportReady(): void {
    this.channel.send({ kg: "ready" });
  }

  /** Resolves once everything this worker sent has left it: call before exiting. */
  flush(): Promise<void> {
    return this.channel.flush();
  }

  /** Called when the primary asks this worker to drain and stop. */
  onStop(handler: () => void): void {
    this.stopHandler = handler;
  }

  /** The in-memory replay store, held by the primary. */
  replayStore(): ReplayStore {
    return {
      kind: "memory",
      claim: (claim) => {
        const { id, answer } = this.claims.open(CLAIM_TIMEOUT_MS, "unavailable");
        this.channel.send({ kg: "claim", id, claim });
        return answer;
      },
      isUp: () => true,
      // Held by the primary, which reports it in the Pod's metrics.
      size: () => undefined,
      close: () => Promise.resolve(),
    };
  }

  /** Hands each last use to the primary, with what this worker's index shows, instead of writing it. */
  lastUsedFlush(shown: ShownLastUse): Flush {
    return (target, usage) => {
      this.channel.send({ kg: "last-used", target, usage, shownMs: shown.lastUsedMs(target.uid) });
      return Promise.resolve("written");
    };
  }

  /** This worker's metrics, whose /metrics answers with the whole Pod's (or its own, should the primary not answer). */
  metrics(sources: MetricSources): VerifierMetrics {
    const metrics = new PodMetrics(sources, (own) => this.askPodMetrics(own));
    this.ownMetrics = () => metrics.registry.getMetricsAsJSON();
    return metrics;
  }

  private async askPodMetrics(own: () => Promise<string>): Promise<string> {
    const { id, answer } = this.podMetrics.open(METRICS_TIMEOUT_MS, undefined);
    this.channel.send({ kg: "pod-metrics", id });
    return (await answer) ?? own();
  }

  private receive(message: ToWorker): void {
    switch (message.kg) {
      case "claim":
        return this.claims.settle(message.id, message.verdict);
      case "pod-ready":
        this.ready = message.ready;
        return;
      case "pod-metrics":
        return this.podMetrics.settle(message.id, message.text);
      case "metrics-json":
        return this.sendMetrics(message.id);
      case "stop":
        return this.stopHandler?.();
    }
  }

  private sendMetrics(id: number): void {
    const own = this.ownMetrics;
    if (own === undefined) return;
    own().then(
      (metrics) => this.channel.send({ kg: "metrics-json", id, metrics: forPod(metrics) }),
      () => this.channel.send({ kg: "metrics-json", id, metrics: [] }),
    );
  }
}

/** A worker's metrics whose text is the whole Pod's. */
class PodMetrics extends VerifierMetrics {
  constructor(
    sources: MetricSources,
    private readonly podText: (own: () => Promise<string>) => Promise<string>,
  ) {
    super(sources);
  }

  override text(): Promise<string> {
    return this.podText(() => super.text());
  }
}
