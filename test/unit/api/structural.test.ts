import { describe, expect, it } from "vitest";
import { CrdSchemaError, toStructural } from "../../../src/crdgen/structural.js";

describe("making a JSON Schema structural for a CRD", () => {
  it("inlines $ref targets, keeping the referring node's own keywords", () => {
    const schema = {
      type: "object",
      properties: { a: { $ref: "#/$defs/Name", description: "first" }, b: { $ref: "#/definitions/Name" } },
      $defs: { Name: { type: "string", maxLength: 8 } },
      definitions: { Name: { type: "string", maxLength: 8 } },
    };
    expect(toStructural(schema)).toEqual({
      type: "object",
      properties: { a: { type: "string", maxLength: 8, description: "first" }, b: { type: "string", maxLength: 8 } },
    });
  });

  it("follows a $ref whose target is itself a $ref", () => {
    const schema = { $ref: "#/$defs/Alias", $defs: { Alias: { $ref: "#/$defs/Name" }, Name: { type: "string" } } };
    expect(toStructural(schema)).toEqual({ type: "string" });
  });

  it("refuses a recursive $ref, which cannot be inlined", () => {
    const schema = { $ref: "#/$defs/Tree", $defs: { Tree: { type: "object", properties: { child: { $ref: "#/$defs/Tree" } } } } };
    expect(() => toStructural(schema)).toThrow(/recursive \$ref/);
  });

  it("drops additionalProperties beside properties and keeps it on maps", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { labels: { type: "object", additionalProperties: { type: "string" } } },
      additionalProperties: false,
    };
    expect(toStructural(schema)).toEqual({
      type: "object",
      properties: { labels: { type: "object", additionalProperties: { type: "string" } } },
    });
  });

  it("refuses an object that is open beside its properties", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, additionalProperties: {} };
    expect(() => toStructural(schema)).toThrow(CrdSchemaError);
  });

  it("translates formats Kubernetes knows and drops zod's regex for them", () => {
    const schema = { type: "string", format: "cidrv4", pattern: "^(?=x).*$" };
    expect(toStructural(schema)).toEqual({ type: "string", format: "cidr" });
  });

  it("drops formats Kubernetes does not know, or knows with another meaning, and keeps their pattern", () => {
    const schema = { type: "string", format: "duration", pattern: "^P[0-9]+D$" };
    expect(toStructural(schema)).toEqual({ type: "string", pattern: "^P[0-9]+D$" });
  });

  it("refuses a pattern the API server's RE2 engine cannot compile", () => {
    expect(() => toStructural({ type: "string", pattern: "^(?!admin)[a-z]+$" })).toThrow(/cannot compile/);
    expect(() => toStructural({ type: "string", pattern: "^(a)\\1$" })).toThrow(/cannot compile/);
  });

  it("refuses a node without a type, naming where it is", () => {
    const schema = { type: "object", properties: { anything: {} } };
    expect(() => toStructural(schema, "spec")).toThrow("spec.anything: every node of a structural schema needs a type");
  });

  it("refuses unions, which are not structural, instead of silently dropping them", () => {
    const schema = { anyOf: [{ type: "string" }, { type: "integer" }] };
    expect(() => toStructural(schema)).toThrow(/anyOf has no structural equivalent/);
  });

  it("turns const into a one-value enum", () => {
    expect(toStructural({ type: "string", const: "x" })).toEqual({ type: "string", enum: ["x"] });
  });

  it("drops the safe-integer bounds zod puts on every integer, keeping real ones", () => {
    const schema = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
    expect(toStructural(schema)).toEqual({ type: "integer", minimum: 0 });
    expect(toStructural({ type: "integer", minimum: -Number.MAX_SAFE_INTEGER, maximum: 10 })).toEqual({
      type: "integer",
      maximum: 10,
    });
  });

  it("copies Kubernetes extensions and defaults unchanged", () => {
    const schema = {
      type: "array",
      items: { type: "string", default: "x" },
      "x-kubernetes-list-type": "set",
      "x-kubernetes-validations": [{ rule: "self.size() > 0", message: "empty" }],
    };
    expect(toStructural(schema)).toEqual(schema);
  });
});
