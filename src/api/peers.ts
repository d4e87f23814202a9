import type { ParseResult } from "./parse.js";

/** What the per-user limits read of any kind: who it belongs to and how old it is. */
export interface UserOwned {
  metadata: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec: { user: string };
}

type Parse<T> = (object: unknown) => ParseResult<T>;

// Cached objects are replaced, never changed in place, on every update: an object parsed once
// keeps its result for as long as it lives. Without this, every reconcile and admission parsed
// every object of the namespace again.
const parsedBy = new WeakMap<Parse<unknown>, WeakMap<object, ParseResult<unknown>>>();

function parsedOnce<T>(object: unknown, parse: Parse<T>): ParseResult<T> {
  if (typeof object !== "object" || object === null) return parse(object);
  let results = parsedBy.get(parse);
  if (!results) parsedBy.set(parse, (results = new WeakMap()));
  let result = results.get(object) as ParseResult<T> | undefined;
  if (!result) results.set(object, (result = parse(object)));
  return result;
}

/**
 * The objects of one account (namespace) and user, parsed; malformed ones are skipped. The
 * objects must not be changed after they are passed here (informer caches are not).
 */
export function peersOf<T extends UserOwned>(objects: readonly unknown[], parse: Parse<T>, namespace: string, user: string): T[] {
  const peers: T[] = [];
  for (const object of objects) {
    const result = parsedOnce(object, parse);
    if (result.ok && (result.value.metadata.namespace ?? "") === namespace && result.value.spec.user === user) peers.push(result.value);
  }
  return peers;
}

// Oldest first by creationTimestamp, then name: every replica and every retry sees one order.
export function byAge(a: UserOwned, b: UserOwned): number {
  const at = a.metadata.creationTimestamp ?? "";
  const bt = b.metadata.creationTimestamp ?? "";
  if (at !== bt) return at < bt ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

/** The `limit` oldest objects that are not being deleted: those a per-user cap lets live. */
export function oldestLiving<T extends UserOwned>(peers: readonly T[], limit: number): T[] {
  return peers.filter((peer) => peer.metadata.deletionTimestamp === undefined).sort(byAge).slice(0, limit);
}
