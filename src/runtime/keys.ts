export interface ObjectName {
  namespace: string;
  name: string;
}

/** The work-queue key of an object: `namespace/name`, or `name` for a cluster-scoped one. */
export function keyOf(name: { namespace?: string; name: string }): string {
  return name.namespace ? `${name.namespace}/${name.name}` : name.name;
}

/** Splits a key back; the namespace is empty for a cluster-scoped object. */
export function splitKey(key: string): ObjectName {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
