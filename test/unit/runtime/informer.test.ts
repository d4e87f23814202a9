import { KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Informer } from "../../../src/runtime/informer.js";
import type { ResourceSource } from "../../../src/runtime/sources.js";
import { ManualClock } from "./manual-clock.js";

type LogRecord = Record<string, unknown> & { msg?: string };

// Never contacted: every list below fails before a watch is opened.
function offlineKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

function failingInformer() {
  const clock = new ManualClock();
  const records: LogRecord[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  let lists = 0;
  const source: ResourceSource<V1Secret> = {
    kind: "Secret",
    path: "/api/v1/secrets",
    list: () => {
      lists++;
      return Promise.reject(new Error("the API server is unreachable"));
    },
  };
  const informer = new Informer({ kubeConfig: offlineKubeConfig(), source, logger, clock, backoff: { baseMs: 100, capMs: 500 } });
  return { informer, clock, records, lists: () => lists };
}

describe("Informer", () => {
  it("keeps restarting while listing fails, each time after a longer pause up to the cap, and logs why", async () => {
    const { informer, clock, records, lists } = failingInformer();
    informer.start();
    await clock.advance(100 + 200 + 400 + 500 + 500);
    expect(lists()).toBe(6);
    const failures = records.filter((r) => r.msg === "informer failed; restarting");
    expect(failures.map((r) => r.retryInMs)).toEqual([100, 200, 400, 500, 500, 500]);
    expect(failures[0]).toMatchObject({ kind: "Secret", error: "the API server is unreachable" });
    await informer.stop();
  });

  it("stops restarting once stopped", async () => {
    const { informer, clock, lists } = failingInformer();
    informer.start();
    await clock.advance(0);
    await informer.stop();
    await clock.advance(60_000);
    expect(lists()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it("rejects synced() when stopped before any list succeeded, so no caller waits forever", async () => {
    const { informer, clock } = failingInformer();
    informer.start();
    await clock.advance(1000);
    await informer.stop();
    await expect(informer.synced()).rejects.toThrow(/stopped before its first list/);
  });

  it("delivers a change to every handler even when one throws, and logs the throw", async () => {
    const records: LogRecord[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
    const secret: V1Secret = { metadata: { namespace: "ns", name: "s1", resourceVersion: "1" } };
    const source: ResourceSource<V1Secret> = {
      kind: "Secret",
      path: "/api/v1/secrets",
      list: () => Promise.resolve({ metadata: { resourceVersion: "1" }, items: [secret] }),
    };
    // The list succeeds; the watch that follows is refused by the closed port, which is fine here.
    const informer = new Informer({ kubeConfig: offlineKubeConfig(), source, logger, clock: new ManualClock() });
    const seen: string[] = [];
    informer.on("add", () => {
      throw new Error("handler bug");
    });
    informer.on("add", (object) => seen.push(object.metadata?.name ?? ""));
    informer.start();
    await informer.synced();
    await informer.stop();
    expect(seen).toEqual(["s1"]);
    expect(informer.get("ns", "s1")).toBe(secret);
    expect(records.find((r) => r.msg === "informer handler threw")).toMatchObject({
      kind: "Secret",
      namespace: "ns",
      name: "s1",
      event: "add",
      error: "handler bug",
    });
  });

  it("refuses to start twice", async () => {
    const { informer } = failingInformer();
    informer.start();
    expect(() => informer.start()).toThrow(/already started/);
    await informer.stop();
  });
});
