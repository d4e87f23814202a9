import { ApiException, type KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import type { Condition } from "../../../src/api/condition.js";
import { InvalidResourceError, type ParseResult } from "../../../src/api/parse.js";
import { setCondition } from "../../../src/runtime/conditions.js";
import type { EventSink, EventType } from "../../../src/runtime/events.js";
import type { KindClient } from "../../../src/runtime/kube.js";
import {
  type KindLogic,
  type Outcome,
  READY,
  RECONCILE_FAILED,
  ReconcileSkeleton,
  type Settled,
  type TransitionEvent,
} from "../../../src/runtime/reconcile.js";
import { LogCapture } from "../../support/log-capture.js";

const NOW = new Date("2027-01-15T08:00:15.250Z");
const NOW_TEXT = "2027-01-15T08:00:15Z";

// A tiny kind: it wants `spec.want` bumps of a counter in the world, then it is Done.
interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation?: number; deletionTimestamp?: string };
  spec: { want: number; requeueAt?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number } & Record<string, unknown>;
}
type WidgetStatus = NonNullable<Widget["status"]>;
interface Observation {
  widget: Widget;
  bumped: number;
}
type Bump = { kind: "bump" };

function widget(spec: Widget["spec"], meta: Partial<Widget["metadata"]> = {}): Widget {
  return { apiVersion: "test.keygate.dev/v1", kind: "Widget", metadata: { name: "w1", namespace: "team-a", generation: 2, ...meta }, spec };
}

function parseWidget(raw: unknown): ParseResult<Widget> {
  const candidate = raw as Partial<Widget>;
  if (typeof candidate.spec?.want === "number") return { ok: true, value: candidate as Widget };
  return { ok: false, error: new InvalidResourceError("Widget", [{ path: "spec.want", rule: "required", message: "is required" }]) };
}

function readyReason(status: WidgetStatus | undefined): string | undefined {
  return status?.conditions?.find((condition) => condition.type === READY)?.reason;
}

class WidgetLogic implements KindLogic<Widget, Observation, Bump, Outcome> {
  readonly kind = "Widget";
  readonly parse = parseWidget;
  readonly othersOwn = ["lastSeen"];
  bumped = 0;
  acts = 0;
  /** Thrown by the next act() calls while set; `gatherFault` likewise by gather(). */
  actFault: Error | undefined;
  gatherFault: Error | undefined;

  gather(object: Widget): Promise<Observation> {
    if (this.gatherFault !== undefined) return Promise.reject(this.gatherFault);
    return Promise.resolve({ widget: object, bumped: this.bumped });
  }

  decide(observation: Observation): Bump | Settled<Outcome> {
    const { want, requeueAt } = observation.widget.spec;
    if (observation.bumped < want) return { kind: "bump" };
    return { kind: "none", outcome: { ready: true, reason: "Done", message: `${want} bumps made`, requeueAt } };
  }

  act(): Promise<void> {
    this.acts++;
    if (this.actFault !== undefined) return Promise.reject(this.actFault);
    this.bumped++;
    return Promise.resolve();
  }

  desiredStatus(observation: Observation, outcome: Outcome): WidgetStatus {
    const generation = observation.widget.metadata.generation ?? 0;
    const ready = { type: READY, status: outcome.ready ? "True" : "False", reason: outcome.reason, message: outcome.message, observedGeneration: generation } as const;
    return { conditions: setCondition(observation.widget.status?.conditions ?? [], ready, NOW), observedGeneration: generation };
  }

  transitionEvents(previous: WidgetStatus | undefined, _next: Record<string, unknown>, outcome: Outcome): TransitionEvent[] {
    return readyReason(previous) === outcome.reason ? [] : [{ type: "Normal", reason: outcome.reason, message: outcome.message }];
  }
}

interface StatusWrite {
  previous: Record<string, unknown> | undefined;
  status: Record<string, unknown>;
  othersOwn: readonly string[] | undefined;
}

/** The API server as the skeleton sees it: one stored object, and every write recorded. */
class FakeClient {
  stored: Widget | undefined;
  reads = 0;
  readonly writes: StatusWrite[] = [];
  readonly patches: Array<Record<string, unknown>> = [];
  patchFault: Error | undefined;

  read(): Promise<KubernetesObject | undefined> {
    this.reads++;
    return Promise.resolve(this.stored && (structuredClone(this.stored) as KubernetesObject));
  }

  writeStatus(_raw: KubernetesObject, previous: Record<string, unknown> | undefined, status: Record<string, unknown>, othersOwn?: readonly string[]): Promise<void> {
    this.writes.push({ previous, status, othersOwn });
    if (this.stored) this.stored.status = structuredClone(status);
    return Promise.resolve();
  }

  patchStatus(_raw: KubernetesObject, fields: Record<string, unknown>): Promise<void> {
    if (this.patchFault !== undefined) return Promise.reject(this.patchFault);
    this.patches.push(fields);
    if (this.stored) this.stored.status = { ...this.stored.status, ...structuredClone(fields) };
    return Promise.resolve();
  }
}

interface Emitted {
  name: string | undefined;
  type: EventType;
  reason: string;
  message: string;
}

class FakeEvents implements EventSink {
  readonly emitted: Emitted[] = [];
  emit(object: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    this.emitted.push({ name: object.metadata?.name, type, reason, message });
    return Promise.resolve();
  }
}

let logic: WidgetLogic;
let client: FakeClient;
let events: FakeEvents;
let logs: LogCapture;
let skeleton: ReconcileSkeleton<Widget, Observation, Bump, Outcome>;

beforeEach(() => {
  logic = new WidgetLogic();
  client = new FakeClient();
  events = new FakeEvents();
  logs = new LogCapture();
  const log = pino({ level: "debug" }, logs);
  skeleton = new ReconcileSkeleton(logic, { client: client as unknown as KindClient, events, log, now: () => NOW });
});

const reconcile = () => skeleton.reconcile("team-a", "w1");
const ready = () => client.stored?.status?.conditions?.find((condition) => condition.type === READY);

describe("the reconcile skeleton", () => {
  it("applies steps, reading the object afresh before each decision, until nothing is left", async () => {
    client.stored = widget({ want: 3 });
    await expect(reconcile()).resolves.toEqual({});
    expect(logic.acts).toBe(3);
    expect(client.reads).toBe(4);
    expect(client.writes).toHaveLength(1);
    expect(ready()).toEqual({ type: READY, status: "True", reason: "Done", message: "3 bumps made", observedGeneration: 2, lastTransitionTime: NOW_TEXT });
  });

  it("writes the status once, with the fields another component owns, and emits the transition's Events", async () => {
    client.stored = widget({ want: 1 });
    await reconcile();
    expect(client.writes).toEqual([{ previous: undefined, status: client.stored.status, othersOwn: ["lastSeen"] }]);
    expect(events.emitted).toEqual([{ name: "w1", type: "Normal", reason: "Done", message: "1 bumps made" }]);
  });

  it("writes nothing and emits nothing when the status is already right (a resync)", async () => {
    client.stored = widget({ want: 1 });
    await reconcile();
    await reconcile();
    expect(client.writes).toHaveLength(1);
    expect(events.emitted).toHaveLength(1);
  });

  it("writes no status for an object being deleted", async () => {
    client.stored = widget({ want: 0 }, { deletionTimestamp: NOW.toISOString() });
    await reconcile();
    expect(client.writes).toEqual([]);
    expect(events.emitted).toEqual([]);
  });

  it("turns the outcome's requeueAt into a delay from now, never negative", async () => {
    client.stored = widget({ want: 0, requeueAt: NOW.getTime() + 90_000 });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 90_000 });
    client.stored = widget({ want: 0, requeueAt: NOW.getTime() - 5_000 });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 0 });
  });

  it("ends quietly when the object is gone", async () => {
    await expect(reconcile()).resolves.toBeUndefined();
    expect(logic.acts).toBe(0);
    expect(client.writes).toEqual([]);
    expect(client.patches).toEqual([]);
    expect(events.emitted).toEqual([]);
  });

  it("skips an object it cannot parse, with a warning naming it and the invalid field", async () => {
    client.stored = { ...widget({ want: 1 }), spec: {} as Widget["spec"] };
    await expect(reconcile()).resolves.toBeUndefined();
    expect(logic.acts).toBe(0);
    expect(client.writes).toEqual([]);
    const warning = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === 40);
    expect(warning).toMatchObject({ kind: "Widget", namespace: "team-a", name: "w1", msg: "invalid Widget ignored" });
    expect(JSON.stringify(warning?.issues)).toContain("spec.want");
  });

  it("stops after eight steps of a decision that never settles, and asks to run again at once", async () => {
    client.stored = widget({ want: 100 });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 0 });
    expect(logic.acts).toBe(8);
    expect(client.writes).toEqual([]);
  });
});

describe("a failed reconcile", () => {
  const failedReady = (message: string) => ({ type: READY, status: "False", reason: RECONCILE_FAILED, message, observedGeneration: 2 });

  it("sets Ready=False naming the step and the error, emits one Warning, and rethrows", async () => {
    client.stored = widget({ want: 1 });
    const boom = new Error("the disk is full");
    logic.actFault = boom;
    await expect(reconcile()).rejects.toBe(boom);
    expect(client.patches).toEqual([{ conditions: [{ ...failedReady("bump failed: the disk is full"), lastTransitionTime: NOW_TEXT }] }]);
    expect(events.emitted).toEqual([{ name: "w1", type: "Warning", reason: RECONCILE_FAILED, message: "bump failed: the disk is full" }]);
  });

  it("reports the same failure once, not on every retry", async () => {
    client.stored = widget({ want: 1 });
    logic.actFault = new Error("the disk is full");
    await expect(reconcile()).rejects.toThrow();
    await expect(reconcile()).rejects.toThrow();
    expect(client.patches).toHaveLength(1);
    expect(events.emitted).toHaveLength(1);
  });

  it("reports a different failure again", async () => {
    client.stored = widget({ want: 1 });
    logic.actFault = new Error("the disk is full");
    await expect(reconcile()).rejects.toThrow();
    logic.actFault = new Error("the network is down");
    await expect(reconcile()).rejects.toThrow();
    expect(events.emitted.map((event) => event.message)).toEqual(["bump failed: the disk is full", "bump failed: the network is down"]);
  });

  it("names the gather step when gathering fails", async () => {
    client.stored = widget({ want: 1 });
    logic.gatherFault = new Error("cache not synced");
    await expect(reconcile()).rejects.toThrow("cache not synced");
    expect(ready()).toMatchObject(failedReady("gather failed: cache not synced"));
  });

  it("tells the API server's reason, not its whole response", async () => {
    client.stored = widget({ want: 1 });
    logic.actFault = new ApiException(422, "HTTP-Code: 422 Headers: {...} Body: {...}", { message: "spec.x: Invalid value" }, {});
    await expect(reconcile()).rejects.toThrow();
    expect(ready()?.message).toBe("bump failed: spec.x: Invalid value");
  });

  it("cuts a long message to a size a condition can carry", async () => {
    client.stored = widget({ want: 1 });
    logic.actFault = new Error("x".repeat(5000));
    await expect(reconcile()).rejects.toThrow();
    expect(ready()?.message).toHaveLength(1024);
  });

  it("reports nothing for a conflict: someone wrote first and the retry decides again", async () => {
    client.stored = widget({ want: 1 });
    const conflict = Object.assign(new Error("the object has been modified"), { statusCode: 409 });
    logic.actFault = conflict;
    await expect(reconcile()).rejects.toBe(conflict);
    expect(client.patches).toEqual([]);
    expect(events.emitted).toEqual([]);
  });

  it("reports nothing for an object being deleted", async () => {
    client.stored = widget({ want: 1 }, { deletionTimestamp: NOW.toISOString() });
    logic.actFault = new Error("the disk is full");
    await expect(reconcile()).rejects.toThrow();
    expect(client.patches).toEqual([]);
    expect(events.emitted).toEqual([]);
  });

  it("still rethrows the failure when it cannot be reported, and logs that", async () => {
    client.stored = widget({ want: 1 });
    const boom = new Error("the disk is full");
    logic.actFault = boom;
    client.patchFault = new Error("the API server is away");
    await expect(reconcile()).rejects.toBe(boom);
    expect(events.emitted).toEqual([]);
    expect(logs.text()).toContain("could not report a failed reconcile");
    expect(logs.text()).toContain("the API server is away");
  });

  it("writes Ready=True again on the next success, as a transition", async () => {
    client.stored = widget({ want: 1 });
    logic.actFault = new Error("the disk is full");
    await expect(reconcile()).rejects.toThrow();
    logic.actFault = undefined;
    await expect(reconcile()).resolves.toEqual({});
    expect(ready()).toEqual({ type: READY, status: "True", reason: "Done", message: "1 bumps made", observedGeneration: 2, lastTransitionTime: NOW_TEXT });
    expect(client.writes).toHaveLength(1);
    expect(events.emitted.map((event) => event.reason)).toEqual([RECONCILE_FAILED, "Done"]);
  });
});
