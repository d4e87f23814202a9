import { describe, expect, it } from "vitest";
import { accessKeyDefinition } from "../../../src/api/accesskey.js";
import type { CelRule } from "../../../src/api/kubernetes.js";
import { customResourceDefinition } from "../../../src/crdgen/crd.js";
import type { JsonSchema } from "../../../src/crdgen/structural.js";

const crd = customResourceDefinition(accessKeyDefinition);
const version = (crd.spec.versions as JsonSchema[])[0] ?? {};
const root = (version.schema as { openAPIV3Schema: JsonSchema }).openAPIV3Schema;

// Steps through list items transparently, as a printer column's JSONPath does.
function child(schema: JsonSchema | undefined, name: string): JsonSchema | undefined {
  const object = schema?.type === "array" ? (schema.items as JsonSchema) : schema;
  return (object?.properties as Record<string, JsonSchema> | undefined)?.[name];
}

function at(path: string): JsonSchema | undefined {
  return path.split(".").reduce<JsonSchema | undefined>((node, name) => child(node, name), root);
}

function rules(schema: JsonSchema | undefined): readonly CelRule[] {
  return (schema?.["x-kubernetes-validations"] as CelRule[] | undefined) ?? [];
}

function* nodes(schema: JsonSchema, path = ""): Generator<[string, JsonSchema]> {
  yield [path, schema];
  for (const [name, sub] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
    yield* nodes(sub, `${path}.${name}`);
  }
  if (schema.items !== undefined) yield* nodes(schema.items as JsonSchema, `${path}[*]`);
  if (typeof schema.additionalProperties === "object") yield* nodes(schema.additionalProperties as JsonSchema, `${path}{*}`);
}

describe("the AccessKey CRD", () => {
  it("serves iam.keygate.dev/v1alpha1 AccessKeys, namespaced, as ak and in the keygate category", () => {
    expect(crd.metadata.name).toBe("accesskeys.iam.keygate.dev");
    expect(crd.spec).toMatchObject({
      group: "iam.keygate.dev",
      scope: "Namespaced",
      names: { kind: "AccessKey", plural: "accesskeys", singular: "accesskey", shortNames: ["ak"], categories: ["keygate"] },
    });
    expect(version).toMatchObject({ name: "v1alpha1", served: true, storage: true, subresources: { status: {} } });
  });

  it("has a type on every node and no $ref, nor additionalProperties beside properties", () => {
    for (const [path, node] of nodes(root)) {
      expect(typeof node.type, path).toBe("string");
      expect(node.$ref, path).toBeUndefined();
      if (node.properties !== undefined) expect(node.additionalProperties, path).toBeUndefined();
    }
  });

  it("bounds every string a CEL rule reads, so the API server can estimate the rules' cost", () => {
    for (const path of ["spec.user", "spec.secretName", "spec.restoreFrom", "status.lastUsed.sourceIP"]) {
      expect(at(path)?.maxLength, path).toBeGreaterThan(0);
    }
    expect(at("spec.allowedSourceCIDRs")?.maxItems).toBe(64);
    expect((at("spec.allowedSourceCIDRs")?.items as JsonSchema).maxLength).toBe(49);
  });

  it("requires the user and defaults the state to Active", () => {
    expect(at("spec")?.required).toEqual(["user"]);
    expect(at("spec.state")).toMatchObject({ default: "Active", enum: ["Active", "Inactive"] });
    expect(root.required).toEqual(["spec"]);
  });

  it("makes user immutable and refuses setting, changing or removing secretName or restoreFrom after creation", () => {
    const specRules = rules(at("spec"));
    expect(specRules).toContainEqual(expect.objectContaining({ rule: "self.user == oldSelf.user", fieldPath: ".user" }));
    const secretName = specRules.find((rule) => rule.fieldPath === ".secretName");
    expect(secretName?.rule).toContain("has(self.secretName) == has(oldSelf.secretName)");
    expect(secretName?.rule).toContain("self.secretName == oldSelf.secretName");
    expect(specRules.map((rule) => rule.fieldPath)).toEqual([".user", ".secretName", ".restoreFrom"]);
  });

  it("checks each source CIDR with isCIDR and requires its masked form", () => {
    const item = at("spec.allowedSourceCIDRs")?.items as JsonSchema;
    expect(rules(item).map((rule) => rule.rule)).toEqual([
      "isCIDR(self)",
      "!isCIDR(self) || cidr(self) == cidr(self).masked()",
    ]);
    expect(at("spec.allowedSourceCIDRs")?.["x-kubernetes-list-type"]).toBe("set");
  });

  it("keeps conditions as a map keyed by type", () => {
    expect(at("status.conditions")).toMatchObject({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    });
  });

  it("refuses at the root a name whose default Secret name would be invalid", () => {
    expect(rules(root).map((rule) => rule.rule)).toEqual([
      "has(self.spec.secretName) || self.metadata.name.size() <= 241",
    ]);
  });

  it("prints ID, User, State, Age and Last Used, each pointing at a field of the schema", () => {
    const columns = version.additionalPrinterColumns as { name: string; jsonPath: string; type: string; priority?: number }[];
    expect(columns.filter((c) => c.priority === undefined).map((c) => [c.name, c.jsonPath, c.type])).toEqual([
      ["ID", ".status.accessKeyId", "string"],
      ["User", ".spec.user", "string"],
      ["State", ".status.state", "string"],
      ["Age", ".metadata.creationTimestamp", "date"],
      ["Last Used", ".status.lastUsed.time", "date"],
    ]);
    for (const column of columns) {
      const fieldPath = column.jsonPath.replace(/\[\?.*?\]/, "").slice(1);
      if (!fieldPath.startsWith("metadata.")) expect(at(fieldPath), column.name).toBeDefined();
    }
  });
});
