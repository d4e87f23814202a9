import { describe, expect, it } from "vitest";
import type { ParseResult } from "../../../src/api/parse.js";
import { peersOf, type UserOwned } from "../../../src/api/peers.js";

function owned(name: string, namespace: string, user: string): UserOwned {
  return { metadata: { name, namespace }, spec: { user } };
}

describe("the objects of one user", () => {
  it("keeps only the namespace's and user's well-formed objects", () => {
    const parse = (object: unknown): ParseResult<UserOwned> =>
      (object as UserOwned).metadata.name === "bad" ? { ok: false, error: { issues: [] } as never } : { ok: true, value: object as UserOwned };
    const objects = [owned("a", "team", "alice"), owned("b", "team", "bob"), owned("c", "other", "alice"), owned("bad", "team", "alice")];
    expect(peersOf(objects, parse, "team", "alice").map((peer) => peer.metadata.name)).toEqual(["a"]);
  });

  it("parses a cached object once however often it is asked about, and a replaced one again", () => {
    let parsed = 0;
    const parse = (object: unknown): ParseResult<UserOwned> => {
      parsed += 1;
      return { ok: true, value: object as UserOwned };
    };
    const objects = Array.from({ length: 100 }, (_, i) => owned(`k${i}`, "team", `user-${i % 10}`));
    for (let round = 0; round < 5; round++) expect(peersOf(objects, parse, "team", "user-3")).toHaveLength(10);
    expect(parsed).toBe(100);
    objects[0] = owned("k0", "team", "user-3");
    expect(peersOf(objects, parse, "team", "user-3")).toHaveLength(11);
    expect(parsed).toBe(101);
  });
});
