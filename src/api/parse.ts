import type * as z from "zod";

export interface FieldIssue {
  // Where, as written in a manifest: `spec.allowedSourceCIDRs[2]`; empty for the object itself.
  readonly path: string;
  // Which rule failed: `required`, `maxLength 64`, `pattern ^…$`, `cidr`, `unknown field`, …
  readonly rule: string;
  readonly message: string;
}

// Messages name fields and rules but never quote a value, so that the error can be logged or
// returned to a client whatever the object held.
export class InvalidResourceError extends Error {
  readonly code = "KG_ERR_INVALID_RESOURCE";

  constructor(
    readonly kind: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(`invalid ${kind}: ${issues.map((i) => `${i.path || "(object)"}: ${i.message} [${i.rule}]`).join("; ")}`);
    this.name = "InvalidResourceError";
  }
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: InvalidResourceError };

type Issue = z.core.$ZodIssue;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    if (!IDENTIFIER.test(name)) return `${out}[${JSON.stringify(name)}]`;
    return out === "" ? name : `${out}.${name}`;
  }, "");
}

const MAX_RULE: Readonly<Record<string, string>> = { string: "maxLength", array: "maxItems" };
const MIN_RULE: Readonly<Record<string, string>> = { string: "minLength", array: "minItems" };

function boundRule(names: Readonly<Record<string, string>>, fallback: string, origin: string, bound: unknown): string {
  return `${names[origin] ?? fallback} ${String(bound)}`;
}

function formatRule(issue: z.core.$ZodIssueInvalidStringFormat): string {
  return issue.format === "regex" && issue.pattern !== undefined ? `pattern ${issue.pattern}` : `format ${issue.format}`;
}

// Our own refinements name their rule in params; zod's generic "custom" is the fallback.
function customRule(issue: z.core.$ZodIssueCustom): string {
  return typeof issue.params?.rule === "string" ? issue.params.rule : "custom";
}

function ruleOf(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type":
      return `type ${issue.expected}`;
    case "too_big":
      return boundRule(MAX_RULE, "maximum", issue.origin, issue.maximum);
    case "too_small":
      return boundRule(MIN_RULE, "minimum", issue.origin, issue.minimum);
    case "invalid_format":
      return formatRule(issue);
    case "invalid_value":
      return `one of ${issue.values.map(String).join(", ")}`;
    case "custom":
      return customRule(issue);
    default:
      return issue.code;
  }
}

// A missing field is told apart from a mistyped one by the input zod reports back; that input
// stays inside this function.
function toFieldIssues(issue: Issue): FieldIssue[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), rule: "unknown field", message: "unknown field" }));
  }
  const path = formatPath(issue.path);
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path, rule: "required", message: "is required" }];
  }
  return [{ path, rule: ruleOf(issue), message: issue.message }];
}

export function parseResource<S extends z.ZodType>(kind: string, schema: S, input: unknown): ParseResult<z.output<S>> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: new InvalidResourceError(kind, result.error.issues.flatMap(toFieldIssues)) };
}
