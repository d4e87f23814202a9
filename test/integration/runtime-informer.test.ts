import { createServer, connect, type Server, type Socket } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Informer, type InformerEvent } from "../../src/runtime/informer.js";
import { builtinSource, customResourceSource, type ResourceSource } from "../../src/runtime/sources.js";
import { useNamespace } from "../support/cluster.js";

const LABEL = "runtime.keygate.dev/test";
const SELECTED = { [LABEL]: "yes" };
const FAST_BACKOFF = { baseMs: 100, capMs: 1000 };

async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type LogRecord = Record<string, unknown> & { msg?: string };

function capturingLogger() {
  const records: LogRecord[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { logger, records };
}

/** Records every change an informer reports as "event name". */
function recordEvents<T extends k8s.KubernetesObject>(informer: Informer<T>): string[] {
  const events: string[] = [];
  for (const event of ["add", "update", "delete"] as InformerEvent[]) {
    informer.on(event, (object) => events.push(`${event} ${object.metadata?.name ?? ""}`));
  }
  return events;
}

function names(objects: readonly k8s.KubernetesObject[]): string[] {
  return objects.map((object) => object.metadata?.name ?? "").sort();
}

/** A TCP relay to the API server whose connections can be cut, and new ones refused, on demand. */
class BreakableProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private down = false;

  constructor(private readonly target: URL) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    return `https://127.0.0.1:${address.port}`;
  }

  break(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  close(): Promise<void> {
    this.break();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(this.target.port), this.target.hostname);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("error", cut);
      socket.on("close", cut);
    }
    client.pipe(upstream).pipe(client);
  }
}

function throughProxy(kc: k8s.KubeConfig, server: string): k8s.KubeConfig {
  const copy = new k8s.KubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters.map((cluster) => ({ ...cluster, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return copy;
}

describe("Informer against a real API server", () => {
  const ns = useNamespace("rt-informer");
  const secrets = (kc: k8s.KubeConfig): ResourceSource<k8s.V1Secret> =>
    builtinSource<k8s.V1Secret>(kc, { apiVersion: "v1", kind: "Secret", plural: "secrets", namespace: ns.name });

  async function createSecret(name: string, labels?: Record<string, string>): Promise<void> {
    await ns.core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name, labels }, stringData: { v: "1" } } });
  }

  it("syncs, then reports Secrets that match its label selector as they are added, updated and deleted", async () => {
    await createSecret("s1-before", SELECTED);
    await createSecret("s1-unlabelled");
    const informer = new Informer({
      kubeConfig: ns.kc,
      source: secrets(ns.kc),
      labelSelector: `${LABEL}=yes`,
      logger: pino({ level: "silent" }),
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.synced();
      expect(names(informer.list())).toEqual(["s1-before"]);
      expect(events).toEqual(["add s1-before"]);

      await createSecret("s1-after", SELECTED);
      await createSecret("s1-other");
      await eventually(() => (events.includes("add s1-after") ? true : undefined));
      const patch = [{ op: "replace", path: "/data/v", value: Buffer.from("2").toString("base64") }];
      await ns.core.patchNamespacedSecret({ namespace: ns.name, name: "s1-after", body: patch });
      await eventually(() => (events.includes("update s1-after") ? true : undefined));
      await ns.core.deleteNamespacedSecret({ namespace: ns.name, name: "s1-after" });
      await eventually(() => (events.includes("delete s1-after") ? true : undefined));

      // The watch delivers in order, so had s1-other got through it would have come before the delete.
      expect(events).toEqual(["add s1-before", "add s1-after", "update s1-after", "delete s1-after"]);
      expect(informer.get(ns.name, "s1-after")).toBeUndefined();
      expect(informer.get(ns.name, "s1-before")?.metadata?.name).toBe("s1-before");
    } finally {
      await informer.stop();
    }
  });

  it("caches listed and watched objects alike, as the API server sent them", async () => {
    await createSecret("s2-listed", { [LABEL]: "shape" });
    const informer = new Informer({
      kubeConfig: ns.kc,
      source: secrets(ns.kc),
      labelSelector: `${LABEL}=shape`,
      logger: pino({ level: "silent" }),
    });
    informer.start();
    try {
      await informer.synced();
      await createSecret("s2-watched", { [LABEL]: "shape" });
      const watched = await eventually(() => informer.get(ns.name, "s2-watched"));
      const listed = informer.get(ns.name, "s2-listed");
      expect(typeof listed?.metadata?.creationTimestamp).toBe("string");
      expect(typeof watched.metadata?.creationTimestamp).toBe("string");
    } finally {
      await informer.stop();
    }
  });

  it("does not report synced until a list succeeds, retrying a list that failed", async () => {
    await createSecret("s3-existing", { [LABEL]: "retry" });
    const real = secrets(ns.kc);
    let lists = 0;
    const flaky: ResourceSource<k8s.V1Secret> = {
      ...real,
      list: (selector) => (++lists === 1 ? Promise.reject(new Error("injected list failure")) : real.list(selector)),
    };
    const { logger, records } = capturingLogger();
    const informer = new Informer({ kubeConfig: ns.kc, source: flaky, labelSelector: `${LABEL}=retry`, logger, backoff: FAST_BACKOFF });
    informer.start();
    try {
      await informer.synced();
      expect(lists).toBe(2);
      expect(names(informer.list())).toEqual(["s3-existing"]);
      expect(records.filter((r) => r.msg === "informer failed; restarting").map((r) => r.error)).toEqual([
        "injected list failure",
      ]);
    } finally {
      await informer.stop();
    }
  });

  it("restarts after its connection breaks and catches up on what changed meanwhile", async () => {
    await createSecret("s4-deleted-during-outage", { [LABEL]: "outage" });
    const proxy = new BreakableProxy(new URL(ns.kc.getCurrentCluster()?.server ?? ""));
    const viaProxy = throughProxy(ns.kc, await proxy.listen());
    const { logger, records } = capturingLogger();
    const informer = new Informer({
      kubeConfig: viaProxy,
      source: secrets(viaProxy),
      labelSelector: `${LABEL}=outage`,
      logger,
      backoff: FAST_BACKOFF,
    });
    const events = recordEvents(informer);
    const restarts = (): LogRecord[] => records.filter((r) => r.msg === "informer failed; restarting");
    informer.start();
    try {
      await informer.synced();
      proxy.break();
      await createSecret("s4-created-during-outage", { [LABEL]: "outage" });
      await ns.core.deleteNamespacedSecret({ namespace: ns.name, name: "s4-deleted-during-outage" });
      // Several failed restarts while the proxy refuses connections, each after a longer pause.
      await eventually(() => (restarts().length >= 3 ? true : undefined));
      proxy.restore();
      await eventually(() =>
        events.includes("add s4-created-during-outage") && events.includes("delete s4-deleted-during-outage") ? true : undefined,
      );
      expect(names(informer.list())).toEqual(["s4-created-during-outage"]);
      const delays = restarts().map((r) => r.retryInMs);
      expect(delays.slice(0, 3)).toEqual([100, 200, 400]);
    } finally {
      await informer.stop();
      await proxy.close();
    }
  });
});

describe("Informer over a custom resource", () => {
  const ns = useNamespace("rt-informer-cr");
  const group = "runtime-test.keygate.dev";
  const crdName = `gadgets.${group}`;
  const extensions = ns.kc.makeApiClient(k8s.ApiextensionsV1Api);

  afterAll(async () => {
    await extensions.deleteCustomResourceDefinition({ name: crdName });
  });

  it("lists and watches a custom resource whose CRD was created just before it started", async () => {
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "gadgets", singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } } } } },
            },
          ],
        },
      },
    });
    const informer = new Informer<k8s.KubernetesObject>({
      kubeConfig: ns.kc,
      source: customResourceSource(ns.kc, { group, version: "v1", plural: "gadgets", kind: "Gadget" }),
      logger: pino({ level: "silent" }),
      backoff: FAST_BACKOFF,
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.synced();
      // Creating can fail with 404 until the new CRD is established.
      await eventually(
        () =>
          ns.custom
            .createNamespacedCustomObject({
              group,
              version: "v1",
              namespace: ns.name,
              plural: "gadgets",
              body: { apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "g1" }, spec: { size: 1 } },
            })
            .then(
              () => true,
              () => undefined,
            ),
        60_000,
      );
      await eventually(() => (events.includes("add g1") ? true : undefined));
      expect(informer.get(ns.name, "g1")?.metadata?.name).toBe("g1");
    } finally {
      await informer.stop();
    }
  });
});
