import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { mfaDevice } from "../../../../src/kinds/mfadevice/index.js";
import type { ObjectCache } from "../../../../src/runtime/informer.js";

function device(name: string, type: "Virtual" | "SecurityKey", status: Record<string, unknown> = {}, user = "alice"): KubernetesObject {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "MfaDevice",
    metadata: { name, namespace: "team", uid: `uid-${name}`, creationTimestamp: "2026-11-29T00:00:00Z", generation: 1 },
    spec: { user, type, deviceName: name },
    status,
  } as unknown as KubernetesObject;
}

function cacheOf(objects: KubernetesObject[]): ObjectCache {
  return { get: (_ns, name) => objects.find((o) => o.metadata?.name === name), list: () => objects };
}

describe("which devices a changed MfaDevice wakes", () => {
  const registered = device("registered", "SecurityKey", { bound: true });
  const pending = device("pending", "SecurityKey");
  const waiting = device("waiting", "SecurityKey");
  const phone = device("phone", "Virtual");
  const bobs = device("bobs", "SecurityKey", {}, "bob");
  const cache = cacheOf([registered, pending, waiting, phone, bobs]);
  const woken = (event: "update" | "delete", object: KubernetesObject): string[] => (mfaDevice.wakePeers?.(event, object, cache) ?? []).map((peer) => peer.name);

  // A key settled before an older one reached the cache learns it is over the limit; a key over
  // the limit learns a slot came free.
  it("wakes the user's other unregistered devices of the same type, on a change or a deletion", () => {
    expect(woken("update", pending)).toEqual(["waiting"]);
    expect(woken("delete", registered)).toEqual(["pending", "waiting"]);
  });

  it("leaves other types, other users and registered keys alone", () => {
    expect(woken("update", phone)).toEqual([]);
    expect(woken("delete", bobs)).toEqual([]);
  });
});
