import { AggregatorRegistry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReplayClaim } from "../../../src/replay/store.js";
import { type Channel, forPod, type MetricsJson, type ToPrimary, type ToWorker, WorkerLink } from "../../../src/verifier/worker-link.js";
import { workersFor } from "../../../src/verifier/workers.js";

describe("workersFor", () => {
  const rows: Array<[string, string | undefined, number, number]> = [
    ["no limit (max) runs one worker: the node's CPUs say nothing of the Pod's memory", "max 100000\n", 4, 1],
    ["no limit in cgroup v1's form (quota -1) runs one", "-1 100000", 4, 1],
    ["a cgroup v1 quota of 2 CPUs runs 2", "200000 100000", 8, 2],
    ["a limit of 2 CPUs runs 2", "200000 100000\n", 8, 2],
    ["a fractional limit is rounded up", "150000 100000", 8, 2],
    ["a limit under one CPU still runs one", "50000 100000", 8, 1],
    ["a limit above the CPUs this process may use runs one per CPU", "800000 100000", 2, 2],
    ["no cgroup file runs one", undefined, 3, 1],
    ["an unreadable file runs one", "garbage", 3, 1],
  ];
  it.each(rows)("%s", (_name, cpuMax, parallelism, expected) => {
    expect(workersFor(cpuMax, parallelism)).toBe(expected);
  });
});

class FakeChannel implements Channel {
  readonly sent: ToPrimary[] = [];
  private handler: ((message: ToWorker) => void) | undefined;
  send(message: ToPrimary): void {
    this.sent.push(message);
  }
  onMessage(handler: (message: ToWorker) => void): void {
    this.handler = handler;
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  deliver(message: ToWorker): void {
    this.handler?.(message);
  }
}

const claim: ReplayClaim = { id: "KGAK:nonce-1", ttlMs: 900_000, owner: { namespace: "team-a", accessKeyId: "KGAK" } };

describe("WorkerLink", () => {
  afterEach(() => vi.useRealTimers());

  it("claims a nonce through the primary and takes its verdict", async () => {
    const channel = new FakeChannel();
    const store = new WorkerLink(channel).replayStore();
    const verdict = store.claim(claim);
    const sent = channel.sent[0];
    expect(sent).toMatchObject({ kg: "claim", claim });
    channel.deliver({ kg: "claim", id: (sent as { id: number }).id, verdict: "replayed" });
    expect(await verdict).toBe("replayed");
  });

  it("answers unavailable when the primary does not answer, so the request is refused rather than held", async () => {
    vi.useFakeTimers();
    const store = new WorkerLink(new FakeChannel()).replayStore();
    const verdict = store.claim(claim);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await verdict).toBe("unavailable");
  });

  it("is ready only while the primary says the whole Pod is", () => {
    const channel = new FakeChannel();
    const link = new WorkerLink(channel);
    expect(link.podReady()).toBe(false);
    channel.deliver({ kg: "pod-ready", ready: true });
    expect(link.podReady()).toBe(true);
    channel.deliver({ kg: "pod-ready", ready: false });
    expect(link.podReady()).toBe(false);
  });

  it("hands last uses to the primary with what its index shows, writing nothing itself", async () => {
    const channel = new FakeChannel();
    const flush = new WorkerLink(channel).lastUsedFlush({ lastUsedMs: () => 1234 });
    const target = { namespace: "team-a", name: "k", uid: "u-1" };
    expect(await flush(target, { time: "2026-11-29T00:00:00.000Z" })).toBe("written");
    expect(channel.sent).toEqual([{ kg: "last-used", target, usage: { time: "2026-11-29T00:00:00.000Z" }, shownMs: 1234 }]);
  });

  it("stops when the primary asks", () => {
    const channel = new FakeChannel();
    const link = new WorkerLink(channel);
    const stop = vi.fn();
    link.onStop(stop);
    channel.deliver({ kg: "stop" });
    expect(stop).toHaveBeenCalledOnce();
  });
});

describe("forPod", () => {
  it("sums counters, and takes the least readiness and the most keys of the workers", () => {
    const metric = (name: string, type: "counter" | "gauge"): MetricsJson[number] => ({ name, help: "", type, aggregator: "sum", values: [] }) as unknown as MetricsJson[number];
    const marked = forPod([
      metric("keygate_verifier_verifications_total", "counter"),
      metric("keygate_verifier_index_ready", "gauge"),
      metric("keygate_verifier_index_keys", "gauge"),
      metric("keygate_verifier_replay_store_up", "gauge"),
    ]);
    expect(marked.map((entry) => entry.aggregator)).toEqual(["sum", "min", "max", "min"]);
  });
});

describe("a Pod's MFA checks", () => {
  const sources = { keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => undefined, ready: () => true };

  // What a worker relays when the primary asks for its metrics.
  async function relayed(channel: FakeChannel): Promise<MetricsJson> {
    channel.deliver({ kg: "metrics-json", id: 7 });
    await vi.waitFor(() => expect(channel.sent.some((message) => message.kg === "metrics-json")).toBe(true));
    const answer = channel.sent.find((message) => message.kg === "metrics-json");
    return answer?.kg === "metrics-json" ? answer.metrics : [];
  }

  it("add up across workers, as the primary aggregates them", async () => {
    const channels = [new FakeChannel(), new FakeChannel()];
    const [first, second] = channels.map((channel) => new WorkerLink(channel).metrics(sources));
    first?.mfaChecked("assertion", "CounterNotIncreased");
    second?.mfaChecked("assertion", "CounterNotIncreased");
    second?.mfaChecked("code", "MfaLocked");
    const pod = await AggregatorRegistry.aggregate(await Promise.all(channels.map(relayed))).metrics();
    expect(pod).toContain('keygate_verifier_mfa_checks_total{method="assertion",result="CounterNotIncreased"} 2');
    expect(pod).toContain('keygate_verifier_mfa_checks_total{method="code",result="MfaLocked"} 1');
    expect(pod).toContain('keygate_verifier_mfa_checks_total{method="assertion",result="MfaLocked"} 0');
  });
});
