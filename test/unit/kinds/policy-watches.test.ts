import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { accessKey } from "../../../src/kinds/accesskey/index.js";
import { accountPolicy } from "../../../src/kinds/accountpolicy/index.js";
import type { KindCaches, KindWatch } from "../../../src/kinds/kind.js";
import type { ObjectCache } from "../../../src/runtime/informer.js";

function object(kind: string, name: string, extra: Record<string, unknown> = {}): KubernetesObject {
  return { apiVersion: "iam.keygate.dev/v1alpha1", kind, metadata: { name, namespace: "team", uid: `uid-${name}`, generation: 2 }, ...extra };
}

const policy = (observedGeneration: number) => object("AccountPolicy", "default", { spec: { maxKeyAge: "90d" }, status: { observedGeneration } });
const keys = [object("AccessKey", "k1", { spec: { user: "alice" } }), object("AccessKey", "k2", { spec: { user: "bob" } })];

function cacheOf(objects: KubernetesObject[]): ObjectCache {
  return { get: (_ns, name) => objects.find((o) => o.metadata?.name === name), list: () => objects };
}

function caches(byPlural: Record<string, KubernetesObject[]>): KindCaches {
  return { of: (plural) => cacheOf(byPlural[plural] ?? []) };
}

function watchOf(watches: readonly KindWatch[] | undefined, plural: string): KindWatch {
  const watch = watches?.find((candidate) => candidate.plural === plural);
  if (!watch) throw new Error(`no watch on ${plural}`);
  return watch;
}

describe("what wakes an account's keys", () => {
  const watch = watchOf(accessKey.watches, "accountpolicies");
  const woken = (event: "add" | "update" | "delete", changed: KubernetesObject): string[] =>
    watch.keysFor(event, changed, caches({ accesskeys: keys })).map((key) => key.name);

  it("a new or deleted policy wakes every key of its namespace", () => {
    expect(woken("add", policy(2))).toEqual(["k1", "k2"]);
    expect(woken("delete", policy(2))).toEqual(["k1", "k2"]);
  });

  it("a changed spec wakes them (its status does not yet show the new generation)", () => {
    expect(woken("update", policy(1))).toEqual(["k1", "k2"]);
  });

  it("a status-only update does not: the policy's counts change with every key", () => {
    expect(woken("update", policy(2))).toEqual([]);
  });
});

describe("what wakes an account's policy", () => {
  it.each(["accesskeys", "mfadevices", "temporarycredentials"])("a change of %s wakes the namespace's policy, when it has one", (plural) => {
    const watch = watchOf(accountPolicy.watches, plural);
    const changed = keys[0] ?? object("AccessKey", "k1");
    expect(watch.keysFor("update", changed, caches({ accountpolicies: [policy(2)] }))).toEqual([{ namespace: "team", name: "default" }]);
    expect(watch.keysFor("update", changed, caches({}))).toEqual([]);
  });
});
