import { describe, expect, it } from "vitest";
import { inputsHash } from "../../../src/controlplane/image-cache.js";

describe("the inputs hash of a local image", () => {
  it("is the same for the same inputs", () => {
    expect(inputsHash(["Dockerfile", "FROM x", Buffer.from([1, 2])])).toBe(inputsHash(["Dockerfile", "FROM x", Buffer.from([1, 2])]));
  });

  it("changes when an input changes, or inputs change places", () => {
    const hash = inputsHash(["a", "b"]);
    expect(inputsHash(["a", "c"])).not.toBe(hash);
    expect(inputsHash(["b", "a"])).not.toBe(hash);
  });

  it("tells inputs apart that only concatenate alike", () => {
    expect(inputsHash(["ab", "c"])).not.toBe(inputsHash(["a", "bc"]));
  });
});
