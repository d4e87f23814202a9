import type { KeyOwner } from "./key-table.js";

/** Who may learn a key's owner: any caller with a live key, or only one of the owner's namespace. */
export const OWNER_LOOKUP_SCOPES = ["cluster", "namespace"] as const;
export type OwnerLookupScope = (typeof OWNER_LOOKUP_SCOPES)[number];

export function isOwnerLookupScope(text: string): text is OwnerLookupScope {
  return (OWNER_LOOKUP_SCOPES as readonly string[]).includes(text);
}

/**
 * The answer a caller of `callerNamespace` gets. Outside its scope a key is unknown, exactly as an
 * id nobody holds: a different answer would tell that the id exists in another namespace.
 */
export function visibleOwner(owner: KeyOwner | undefined, callerNamespace: string, scope: OwnerLookupScope): KeyOwner | undefined {
  if (owner === undefined) return undefined;
  return scope === "cluster" || owner.namespace === callerNamespace ? owner : undefined;
}
