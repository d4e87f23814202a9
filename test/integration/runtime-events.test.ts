import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { EventRecorder, REPORTING_CONTROLLER } from "../../src/runtime/events.js";
import { controlPlane, kubeConfig, useNamespace } from "../support/cluster.js";

type LogRecord = Record<string, unknown> & { msg?: string };

describe("EventRecorder against a real API server", () => {
  const ns = useNamespace("rt-events");
  const events = ns.kc.makeApiClient(k8s.EventsV1Api);

  async function secretRef(name: string) {
    const secret = await ns.core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name } } });
    return { apiVersion: "v1", kind: "Secret", namespace: ns.name, name, uid: secret.metadata?.uid };
  }

  async function eventsAbout(name: string): Promise<k8s.EventsV1Event[]> {
    const list = await events.listNamespacedEvent({ namespace: ns.name, fieldSelector: `regarding.name=${name}` });
    return list.items;
  }

  it("writes an events.k8s.io/v1 Event about the object, reported by the operator's instance", async () => {
    const regarding = await secretRef("e1");
    const recorder = new EventRecorder({ api: events, identity: "keygate-0", logger: pino({ level: "silent" }) });
    await recorder.record({ regarding, type: "Warning", reason: "SecretConflict", note: "a Secret of that name exists" });
    const [event, ...others] = await eventsAbout("e1");
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      type: "Warning",
      reason: "SecretConflict",
      action: "SecretConflict",
      note: "a Secret of that name exists",
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: "keygate-0",
      regarding: { kind: "Secret", name: "e1", namespace: ns.name, uid: regarding.uid },
    });
  });

  it("cuts a note longer than the API server accepts instead of losing the event", async () => {
    const regarding = await secretRef("e2");
    const recorder = new EventRecorder({ api: events, identity: "keygate-0", logger: pino({ level: "silent" }) });
    const note = "é".repeat(1000);
    await recorder.record({ regarding, type: "Normal", reason: "Long", note });
    const [event] = await eventsAbout("e2");
    expect(Buffer.byteLength(event?.note ?? "")).toBe(1024);
    expect(note.startsWith(event?.note ?? "x")).toBe(true);
  });

  it("resolves and logs, without throwing, when the API server refuses the event", async () => {
    const regarding = await secretRef("e3");
    const records: LogRecord[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
    const unprivileged = kubeConfig(controlPlane().unprivilegedKubeconfigPath).makeApiClient(k8s.EventsV1Api);
    const recorder = new EventRecorder({ api: unprivileged, identity: "keygate-0", logger });
    await expect(recorder.record({ regarding, type: "Normal", reason: "Refused", note: "x" })).resolves.toBeUndefined();
    expect(records.map(({ msg, code, kind, name, reason }) => ({ msg, code, kind, name, reason }))).toEqual([
      { msg: "event dropped", code: 403, kind: "Secret", name: "e3", reason: "Refused" },
    ]);
    expect(await eventsAbout("e3")).toEqual([]);
  });
});
