import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { AccessKeyRef } from "../../../src/verifier/key-table.js";
import { type FlushResult, type LastUsed, LastUsedBatcher } from "../../../src/verifier/last-used.js";
import { lastUsedPatch } from "../../../src/verifier/last-used-patch.js";
import { ManualClock } from "../runtime/manual-clock.js";

const INTERVAL = 60_000;
const alpha: AccessKeyRef = { namespace: "team", name: "alpha", uid: "uid-alpha" };
const beta: AccessKeyRef = { namespace: "team", name: "beta", uid: "uid-beta" };

interface Write {
  at: number;
  name: string;
  usage: LastUsed;
}

function setup(results: Array<FlushResult | Error> = []) {
  const clock = new ManualClock();
  const writes: Write[] = [];
  const batcher = new LastUsedBatcher({
    intervalMs: INTERVAL,
    clock,
    log: pino({ level: "silent" }),
    flush: (target, usage) => {
      writes.push({ at: clock.now(), name: target.name, usage });
      const result = results.shift() ?? "written";
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  });
  const use = (target: AccessKeyRef, label: string): void => batcher.record(target, { time: new Date(clock.now()).toISOString(), service: label });
  return { clock, writes, batcher, use };
}

describe("last-used batching", () => {
  it("writes the first use at once, then at most once per interval whatever the request rate, with the latest use", async () => {
    const { clock, writes, use } = setup();
    use(alpha, "first");
    await clock.advance(0);
    for (let second = 1; second < 150; second++) {
      await clock.advance(1000);
      use(alpha, `use-${second}`);
    }
    await clock.advance(INTERVAL);
    expect(writes.map((write) => [write.at, write.usage.service])).toEqual([
      [0, "first"],
      [60_000, "use-59"],
      [120_000, "use-119"],
      [180_000, "use-149"],
    ]);
  });

  it("batches each key on its own", async () => {
    const { clock, writes, use } = setup();
    use(alpha, "a1");
    await clock.advance(10_000);
    use(beta, "b1");
    use(alpha, "a2");
    use(beta, "b2");
    await clock.advance(INTERVAL);
    expect(writes.map((write) => [write.at, write.name, write.usage.service])).toEqual([
      [0, "alpha", "a1"],
      [10_000, "beta", "b1"],
      [60_000, "alpha", "a2"],
      [70_000, "beta", "b2"],
    ]);
  });

  it("forgets a key after a quiet interval, and writes its next use at once", async () => {
    const { clock, writes, batcher, use } = setup();
    use(alpha, "a1");
    await clock.advance(INTERVAL);
    expect(batcher.size).toBe(0);
    expect(clock.pending()).toBe(0);
    await clock.advance(5 * INTERVAL);
    use(alpha, "a2");
    await clock.advance(0);
    expect(writes.map((write) => [write.at, write.usage.service])).toEqual([
      [0, "a1"],
      [6 * INTERVAL, "a2"],
    ]);
  });

  it("retries a failed write at the next interval unless a newer use replaced it", async () => {
    const { clock, writes, use } = setup([new Error("API server unavailable")]);
    use(alpha, "a1");
    await clock.advance(INTERVAL);
    expect(writes.map((write) => [write.at, write.usage.service])).toEqual([
      [0, "a1"],
      [INTERVAL, "a1"],
    ]);
  });

  it("stops writing for a key whose AccessKey is gone", async () => {
    const { clock, writes, batcher, use } = setup(["gone"]);
    use(alpha, "a1");
    await clock.advance(1);
    expect(batcher.size).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(writes).toHaveLength(1);
  });

  it("writes what is pending when stopped, and nothing afterwards", async () => {
    const { clock, writes, batcher, use } = setup();
    use(alpha, "a1");
    await clock.advance(1000);
    use(alpha, "a2");
    await batcher.stop();
    use(alpha, "a3");
    await clock.advance(10 * INTERVAL);
    expect(writes.map((write) => write.usage.service)).toEqual(["a1", "a2"]);
  });
});

describe("the last-used status patch", () => {
  it("replaces lastUsed whole, so a previous request's scope does not linger, guarded by the AccessKey's uid", () => {
    expect(lastUsedPatch(alpha, { time: "2024-05-01T10:00:00.000Z", sourceIP: "10.0.0.1" })).toEqual([
      { op: "test", path: "/metadata/uid", value: "uid-alpha" },
      { op: "add", path: "/status/lastUsed", value: { time: "2024-05-01T10:00:00.000Z", sourceIP: "10.0.0.1" } },
    ]);
  });
});
