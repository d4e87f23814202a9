import { describe, expect, it } from "vitest";
import { keyOf, splitKey } from "../../../src/runtime/keys.js";

describe("work-queue keys", () => {
  it.each([
    { name: "a namespaced object is keyed namespace/name", object: { namespace: "team-a", name: "k1" }, key: "team-a/k1" },
    { name: "a cluster-scoped object is keyed by its name alone", object: { namespace: "", name: "node-1" }, key: "node-1" },
  ])("$name, and the key splits back", ({ object, key }) => {
    expect(keyOf(object)).toBe(key);
    expect(splitKey(key)).toEqual(object);
  });

  it("splits at the first slash only", () => {
    expect(splitKey("ns/a/b")).toEqual({ namespace: "ns", name: "a/b" });
  });
});
