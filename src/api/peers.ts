import type { ParseResult } from "./parse.js";

/** What the per-user limits read of any kind: who it belongs to and how old it is. */
export interface UserOwned {
  metadata: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec: { user: string };
}

/** The objects of one account (namespace) and user, parsed; malformed ones are skipped. */
export function peersOf<T extends UserOwned>(
  objects: readonly unknown[],
  parse: (object: unknown) => ParseResult<T>,
  namespace: string,
  user: string,
): T[] {
  return objects
    .map(parse)
    .flatMap((result) => (result.ok ? [result.value] : []))
    .filter((peer) => (peer.metadata.namespace ?? "") === namespace && peer.spec.user === user);
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
