import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { breakingChanges, type Crd } from "./crd-compat.js";
import { parseManifests, readText, REPOSITORY_ROOT } from "./manifests.js";

// The release whose CRDs every change is checked against (see crds/previous/*/README.md).
const PREVIOUS_VERSION = "0.1.0";

function load(path: string): Crd {
  const [crd] = parseManifests(readText(path)) as unknown as Crd[];
  if (!crd) throw new Error(`${path} holds no CRD`);
  return crd;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(join(REPOSITORY_ROOT, dir)).filter((name) => name.endsWith(".yaml")).sort();
}

const previousDir = `crds/previous/${PREVIOUS_VERSION}`;
const previousCrds = yamlFiles(previousDir).filter((name) => name !== "objects.yaml");

function clone(crd: Crd): Crd {
  return structuredClone(crd);
}

function specSchema(crd: Crd): Record<string, unknown> {
  const schema = crd.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec;
  if (!schema) throw new Error("no spec schema");
  return schema;
}

describe(`the CRDs against those of ${PREVIOUS_VERSION}`, () => {
  it("keeps every CRD of the previous release", () => {
    expect(previousCrds.length).toBeGreaterThan(0);
    expect(yamlFiles("crds")).toEqual(expect.arrayContaining(previousCrds));
  });

  it.each(previousCrds)("takes nothing away from %s", (name) => {
    expect(breakingChanges(load(`${previousDir}/${name}`), load(`crds/${name}`))).toEqual([]);
  });
});

describe("finding breaking changes", () => {
  const base = load("crds/accesskeys.iam.keygate.dev.yaml");

  it("sees a removed field", () => {
    const next = clone(base);
    delete (specSchema(next).properties as Record<string, unknown>).description;
    expect(breakingChanges(base, next)).toEqual(["accesskeys.iam.keygate.dev v1alpha1.spec.description: removed"]);
  });

  it("sees a removed enum value, a changed type and a newly required field", () => {
    const next = clone(base);
    const properties = specSchema(next).properties as Record<string, Record<string, unknown>>;
    properties.state = { ...properties.state, enum: ["Active"] };
    properties.description = { ...properties.description, type: "integer" };
    specSchema(next).required = ["user", "description"];
    const changes = breakingChanges(base, next);
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/spec\.state: enum value "Inactive" removed$/),
        expect.stringMatching(/spec\.description: type string became integer$/),
        expect.stringMatching(/spec\.description: newly required$/),
      ]),
    );
  });

  it("sees a tightened limit", () => {
    const next = clone(base);
    const properties = specSchema(next).properties as Record<string, Record<string, unknown>>;
    properties.description = { ...properties.description, maxLength: 10 };
    expect(breakingChanges(base, next)).toEqual([expect.stringMatching(/spec\.description: maxLength tightened$/)]);
  });

  it("sees a version no longer served", () => {
    const next = clone(base);
    next.spec.versions = next.spec.versions.map((version) => ({ ...version, name: "v1beta1" }));
    expect(breakingChanges(base, next)).toEqual(["accesskeys.iam.keygate.dev v1alpha1: no longer served"]);
  });

  it("lets a schema grow", () => {
    const next = clone(base);
    const properties = specSchema(next).properties as Record<string, unknown>;
    properties.newField = { type: "string" };
    expect(breakingChanges(base, next)).toEqual([]);
  });
});
