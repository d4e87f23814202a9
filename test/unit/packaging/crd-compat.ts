// What a new CRD takes away from objects stored under an older one. Within one API version a
// schema may only grow: no field, enum value or served version removed, no type changed, nothing
// newly required, no tighter limit. A breaking change needs a new version served beside the old.

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  maxLength?: number;
  maxItems?: number;
  maximum?: number;
  minimum?: number;
  minLength?: number;
  pattern?: string;
  [field: string]: unknown;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Schema };
}

export interface Crd {
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string }; scope: string; versions: CrdVersion[] };
}

function missing<T>(before: readonly T[] | undefined, after: readonly T[] | undefined): T[] {
  return (before ?? []).filter((value) => !(after ?? []).includes(value));
}

// Each check compares one aspect of a schema node; a message names the path.
function limitChanges(path: string, before: Schema, after: Schema): string[] {
  const upper = (["maxLength", "maxItems", "maximum"] as const).filter(
    (limit) => after[limit] !== undefined && (before[limit] === undefined || after[limit] < before[limit]),
  );
  const lower = (["minLength", "minimum"] as const).filter(
    (limit) => after[limit] !== undefined && (before[limit] === undefined || after[limit] > before[limit]),
  );
  const tightened = [...upper, ...lower].map((limit) => `${path}: ${limit} tightened`);
  // A changed pattern may refuse stored values; whether it only widened cannot be told.
  const pattern = after.pattern !== undefined && after.pattern !== before.pattern ? [`${path}: pattern changed`] : [];
  return [...tightened, ...pattern];
}

function nodeChanges(path: string, before: Schema, after: Schema): string[] {
  const changes: string[] = [];
  if (before.type !== after.type) changes.push(`${path}: type ${before.type} became ${after.type}`);
  for (const value of missing(before.enum, after.enum)) changes.push(`${path}: enum value ${JSON.stringify(value)} removed`);
  if (after.enum && !before.enum) changes.push(`${path}: became an enum`);
  for (const field of missing(after.required, before.required)) changes.push(`${path}.${field}: newly required`);
  return [...changes, ...limitChanges(path, before, after)];
}

export function schemaChanges(path: string, before: Schema, after: Schema): string[] {
  const changes = nodeChanges(path, before, after);
  for (const [field, schema] of Object.entries(before.properties ?? {})) {
    const next = after.properties?.[field];
    if (next) changes.push(...schemaChanges(`${path}.${field}`, schema, next));
    else changes.push(`${path}.${field}: removed`);
  }
  if (before.items && after.items) changes.push(...schemaChanges(`${path}[]`, before.items, after.items));
  return changes;
}

function versionChanges(crd: string, before: CrdVersion, after: CrdVersion | undefined): string[] {
  if (!after?.served) return [`${crd} ${before.name}: no longer served`];
  const previous = before.schema?.openAPIV3Schema ?? {};
  return schemaChanges(`${crd} ${before.name}`, previous, after.schema?.openAPIV3Schema ?? {});
}

/** Every change from `before` to `after` that an object valid under `before` could suffer. */
export function breakingChanges(before: Crd, after: Crd): string[] {
  const name = before.metadata.name;
  const identity: string[] = [];
  if (before.spec.scope !== after.spec.scope) identity.push(`${name}: scope changed`);
  if (before.spec.names.kind !== after.spec.names.kind) identity.push(`${name}: kind changed`);
  if (!after.spec.versions.some((version) => version.storage)) identity.push(`${name}: no storage version`);
  const versions = before.spec.versions
    .filter((version) => version.served)
    .flatMap((version) => versionChanges(name, version, after.spec.versions.find((candidate) => candidate.name === version.name)));
  return [...identity, ...versions];
}
