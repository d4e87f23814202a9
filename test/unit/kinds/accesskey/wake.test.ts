import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { accessKey } from "../../../../src/kinds/accesskey/index.js";
import type { ObjectCache } from "../../../../src/runtime/informer.js";

function key(name: string, status: Record<string, unknown> = {}, user = "alice"): KubernetesObject {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name, namespace: "team", uid: `uid-${name}`, creationTimestamp: "2026-11-29T00:00:00Z", generation: 1 },
    spec: { user, state: "Active" },
    status,
  } as unknown as KubernetesObject;
}

const conflict = { conditions: [{ type: "Ready", status: "False", reason: "SecretConflict", message: "m", lastTransitionTime: "2026-11-29T00:00:00Z" }] };

function cacheOf(objects: KubernetesObject[]): ObjectCache {
  return { get: (_ns, name) => objects.find((o) => o.metadata?.name === name), list: () => objects };
}

describe("which keys a changed AccessKey wakes", () => {
  const issued = key("issued", { accessKeyId: "KGAKAAAAAAAAAAAAAAAA" });
  const waiting = key("waiting");
  const blocked = key("blocked", conflict);
  const bob = key("bobs", {}, "bob");
  const cache = cacheOf([issued, waiting, blocked, bob]);
  const woken = (event: "update" | "delete", object: KubernetesObject): string[] =>
    (accessKey.wakePeers?.(event, object, cache) ?? []).map((peer) => peer.name);

  it("wakes the user's keys without an id when one is deleted", () => {
    expect(woken("delete", issued)).toEqual(["waiting", "blocked"]);
  });

  it("wakes them when one is blocked (it gave its slot back), not itself", () => {
    expect(woken("update", blocked)).toEqual(["waiting"]);
  });

  it("wakes nobody on any other update", () => {
    expect(woken("update", issued)).toEqual([]);
    expect(woken("update", waiting)).toEqual([]);
  });
});
