import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Informer, type InformerEvent, objectIdentity } from "../../../src/runtime/informer.js";
import type { ResourceSource } from "../../../src/runtime/sources.js";
import { waitFor } from "../../support/wait.js";

const PATH = "/api/v1/namespaces/ns/secrets";

function secret(name: string, resourceVersion: string, value: string): V1Secret {
  return {
    metadata: { namespace: "ns", name, uid: `uid-${name}`, resourceVersion, labels: { big: "label" } },
    data: { sealed: value },
  };
}

/** Stands in for the API server's watch: each watch request stays open until the test ends it. */
class FakeWatchServer {
  readonly watches: ServerResponse[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      if (!request.url?.startsWith(PATH)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "Content-Type": "application/json" });
      response.flushHeaders();
      this.watches.push(response);
    });
  }

  async start(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return kc;
  }

  /** Sends one watch event on the newest watch. */
  send(type: string, object: unknown): void {
    this.watches.at(-1)?.write(`${JSON.stringify({ type, object })}\n`);
  }

  async stop(): Promise<void> {
    for (const watch of this.watches) watch.end();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

interface Seen {
  readonly event: InformerEvent;
  readonly object: V1Secret;
}

let fake: FakeWatchServer | undefined;
let informer: Informer<V1Secret> | undefined;

afterEach(async () => {
  await informer?.stop();
  await fake?.stop();
});

async function started(items: () => V1Secret[], retain?: (object: V1Secret) => V1Secret) {
  fake = new FakeWatchServer();
  const kubeConfig = await fake.start();
  let lists = 0;
  const source: ResourceSource<V1Secret> = {
    kind: "Secret",
    path: PATH,
    list: () => {
      lists += 1;
      return Promise.resolve({ metadata: { resourceVersion: `${lists * 100}` }, items: items() });
    },
  };
  informer = new Informer({ kubeConfig, source, logger: pino({ level: "silent" }), ...(retain ? { retain } : {}) });
  const seen: Seen[] = [];
  for (const event of ["add", "update", "delete"] as const) informer.on(event, (object) => seen.push({ event, object }));
  informer.start();
  await informer.synced();
  const server = fake;
  await waitFor("the watch", () => Promise.resolve(server.watches.length > 0 || undefined));
  return { server, informer, seen, lists: () => lists };
}

describe("an Informer that retains only part of each object", () => {
  it("gives handlers the whole listed object and keeps only its identity in the cache", async () => {
    const { informer, seen } = await started(() => [secret("a", "1", "AAA")], objectIdentity());
    expect(seen).toEqual([{ event: "add", object: secret("a", "1", "AAA") }]);
    expect(informer.get("ns", "a")).toEqual({ metadata: { namespace: "ns", name: "a", uid: "uid-a", resourceVersion: "1" } });
    expect(informer.list()).toHaveLength(1);
  });

  it("gives handlers the whole watched object on add, update and delete, and caches its identity", async () => {
    const { server, informer, seen } = await started(() => [], objectIdentity());
    server.send("ADDED", secret("b", "2", "B1"));
    server.send("MODIFIED", secret("b", "3", "B2"));
    await waitFor("the update", () => Promise.resolve(seen.length === 2 || undefined));
    expect(informer.get("ns", "b")?.metadata?.resourceVersion).toBe("3");
    expect(informer.get("ns", "b")?.data).toBeUndefined();
    server.send("DELETED", secret("b", "4", "B2"));
    await waitFor("the delete", () => Promise.resolve(seen.length === 3 || undefined));
    expect(seen).toEqual([
      { event: "add", object: secret("b", "2", "B1") },
      { event: "update", object: secret("b", "3", "B2") },
      { event: "delete", object: secret("b", "4", "B2") },
    ]);
    expect(informer.get("ns", "b")).toBeUndefined();
  });

  it("on a relist, reports nothing for an unchanged object and reports a vanished one with what the cache kept", async () => {
    let items = [secret("c", "5", "C"), secret("d", "6", "D")];
    const { server, seen, lists } = await started(() => items, objectIdentity());
    items = [secret("c", "5", "C")];
    // 410 Gone: the watch's resourceVersion is too old, so the informer lists again.
    server.send("ERROR", { kind: "Status", code: 410 });
    server.watches.at(-1)?.end();
    await waitFor("the relist", () => Promise.resolve(lists() === 2 && seen.length === 3 ? true : undefined));
    expect(seen.slice(2)).toEqual([{ event: "delete", object: { metadata: { namespace: "ns", name: "d", uid: "uid-d", resourceVersion: "6" } } }]);
  });
});

describe("objectIdentity", () => {
  it("keeps the name, namespace, resourceVersion and, unless told otherwise, the uid", () => {
    const object = secret("e", "7", "E");
    expect(objectIdentity<V1Secret>()(object)).toEqual({ metadata: { namespace: "ns", name: "e", uid: "uid-e", resourceVersion: "7" } });
    expect(objectIdentity<V1Secret>({ uid: false })(object)).toEqual({ metadata: { namespace: "ns", name: "e", resourceVersion: "7" } });
  });
});

describe("an Informer without retain", () => {
  it("caches the whole object, as sent", async () => {
    const listed = secret("g", "9", "G");
    const { informer, seen } = await started(() => [listed]);
    expect(informer.get("ns", "g")).toBe(listed);
    expect(seen[0]?.object).toBe(listed);
  });
});
