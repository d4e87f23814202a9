// Turns the JSON Schema zod emits into a structural schema the API server accepts for a CRD:
// every node typed, no $ref, no additionalProperties beside properties, only the keywords and
// formats Kubernetes knows.
//
// Keywords that only annotate are dropped. Keywords that validate but cannot be expressed in a
// CRD make generation fail: dropping them would let the API server store objects that the
// runtime schema refuses, and the two must agree.

export type JsonSchema = Record<string, unknown>;

export class CrdSchemaError extends Error {
  readonly code = "KG_ERR_CRD_SCHEMA";

  constructor(path: string, problem: string) {
    super(`${path || "(root)"}: ${problem}`);
    this.name = "CrdSchemaError";
  }
}

// zod format → the Kubernetes format with the same meaning. Formats missing here are dropped;
// notably zod's "duration" is ISO 8601 while Kubernetes' is Go's time.Duration.
const KUBERNETES_FORMATS: Readonly<Record<string, string>> = {
  "date-time": "date-time",
  date: "date",
  email: "email",
  uuid: "uuid",
  uri: "uri",
  hostname: "hostname",
  ipv4: "ipv4",
  ipv6: "ipv6",
  cidrv4: "cidr",
  cidrv6: "cidr",
  mac: "mac",
};

const COPIED = new Set([
  "type",
  "description",
  "title",
  "default",
  "enum",
  "required",
  "nullable",
  "example",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
]);

const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "$defs",
  "definitions",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "contentMediaType",
]);

// Lookarounds and backreferences exist in JavaScript regexes but not in the RE2 syntax the API
// server compiles `pattern` with; a CRD carrying one would be refused at apply time.
const NOT_RE2 = /\(\?<?[=!]|\\[1-9]|\\k</;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

interface Context {
  readonly definitions: Readonly<Record<string, unknown>>;
  readonly resolving: readonly string[];
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolveRef(node: JsonSchema, ctx: Context, path: string): [JsonSchema, Context] {
  const ref = node.$ref;
  if (typeof ref !== "string") return [node, ctx];
  const name = ref.replace(/^#\/(\$defs|definitions)\//, "");
  const target = ctx.definitions[name];
  if (!isSchema(target)) throw new CrdSchemaError(path, `unresolvable $ref ${ref}`);
  if (ctx.resolving.includes(name)) throw new CrdSchemaError(path, `recursive $ref ${ref} cannot be inlined`);
  // The referring node's own keywords (zod puts descriptions there) win over the target's; the
  // target may itself be a $ref, so resolution repeats.
  const siblings: JsonSchema = { ...node };
  delete siblings.$ref;
  return resolveRef({ ...target, ...siblings }, { ...ctx, resolving: [...ctx.resolving, name] }, path);
}

function convertProperties(value: unknown, ctx: Context, path: string): JsonSchema {
  if (!isSchema(value)) throw new CrdSchemaError(path, "properties must be an object");
  return Object.fromEntries(
    Object.entries(value).map(([name, child]) => [name, convert(child, ctx, `${path}.${name}`)]),
  );
}

// A map (additionalProperties alone) is structural; beside properties it is not. `false` is what
// strict objects emit, and Kubernetes already refuses or prunes unknown fields.
function convertAdditional(node: JsonSchema, ctx: Context, path: string): JsonSchema {
  const value = node.additionalProperties;
  if (value === false) return {};
  if (node.properties === undefined && isSchema(value)) {
    return { additionalProperties: convert(value, ctx, `${path}[*]`) };
  }
  throw new CrdSchemaError(path, "open objects are not structural; list their fields or use a map");
}

function convertFormat(value: unknown): JsonSchema {
  const format = typeof value === "string" ? KUBERNETES_FORMATS[value] : undefined;
  return format === undefined ? {} : { format };
}

// zod emits, beside a format, its own regex for that format. The API server checks a format it
// knows by itself, so that regex is dropped; it is kept where the format is not carried over.
function convertPattern(node: JsonSchema, path: string): JsonSchema {
  if (typeof node.format === "string" && node.format in KUBERNETES_FORMATS) return {};
  const pattern = String(node.pattern);
  if (NOT_RE2.test(pattern)) throw new CrdSchemaError(path, `pattern ${pattern} uses syntax the API server cannot compile`);
  return { pattern };
}

function convertKeyword(key: string, node: JsonSchema, ctx: Context, path: string): JsonSchema {
  const value = node[key];
  if (COPIED.has(key) || key.startsWith("x-kubernetes-")) return { [key]: structuredClone(value) };
  if (ANNOTATIONS.has(key)) return {};
  switch (key) {
    case "properties":
      return { properties: convertProperties(value, ctx, path) };
    case "items":
      return { items: convert(value, ctx, `${path}[*]`) };
    case "additionalProperties":
      return convertAdditional(node, ctx, path);
    case "format":
      return convertFormat(value);
    case "pattern":
      return convertPattern(node, path);
    case "const":
      return { enum: [structuredClone(value)] };
    default:
      throw new CrdSchemaError(path, `keyword ${key} has no structural equivalent in a CRD`);
  }
}

// Bounds zod adds to every integer because JavaScript numbers are exact only up to 2^53; they
// describe the runtime, not the API.
function dropImplicitIntegerBounds(schema: JsonSchema): JsonSchema {
  if (schema.type !== "integer") return schema;
  const { minimum, maximum, ...rest } = schema;
  return {
    ...rest,
    ...(minimum === -MAX_SAFE || minimum === undefined ? {} : { minimum }),
    ...(maximum === MAX_SAFE || maximum === undefined ? {} : { maximum }),
  };
}

function convert(value: unknown, parent: Context, path: string): JsonSchema {
  if (!isSchema(value)) throw new CrdSchemaError(path, "a schema must be an object");
  const [node, ctx] = resolveRef(value, parent, path);
  const out: JsonSchema = {};
  for (const key of Object.keys(node)) Object.assign(out, convertKeyword(key, node, ctx, path));
  if (typeof out.type !== "string") throw new CrdSchemaError(path, "every node of a structural schema needs a type");
  return dropImplicitIntegerBounds(out);
}

// `path` names the schema's place in the object, so that errors read `spec.user: …`.
export function toStructural(schema: JsonSchema, path = ""): JsonSchema {
  const definitions = { ...(isSchema(schema.definitions) ? schema.definitions : {}), ...(isSchema(schema.$defs) ? schema.$defs : {}) };
  return convert(schema, { definitions, resolving: [] }, path);
}
