import * as z from "zod";
import { CATEGORY, GROUP, VERSION } from "../api/group.js";
import type { KindDefinition } from "../api/kind.js";
import { kubernetesExtensions } from "../api/kubernetes.js";
import { type JsonSchema, toStructural } from "./structural.js";

export interface CustomResourceDefinition {
  readonly apiVersion: "apiextensions.k8s.io/v1";
  readonly kind: "CustomResourceDefinition";
  readonly metadata: { readonly name: string };
  readonly spec: JsonSchema;
}

// The input side is what users write: a field with a default is optional there, and the API
// server fills it in, as the runtime schema does on parse.
function openApiSchema(schema: z.ZodType, path: string): JsonSchema {
  const jsonSchema = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    unrepresentable: "throw",
    override: ({ zodSchema, jsonSchema: node }) => {
      Object.assign(node, structuredClone(kubernetesExtensions.get(zodSchema)));
    },
  });
  return toStructural(jsonSchema, path);
}

// apiVersion, kind and metadata are validated by the API server itself; a CRD only declares them.
function rootSchema(definition: KindDefinition): JsonSchema {
  return {
    type: "object",
    description: definition.description,
    properties: {
      apiVersion: { type: "string", description: "Versioned schema of this representation of the object." },
      kind: { type: "string", description: "REST resource this object represents." },
      metadata: { type: "object" },
      spec: openApiSchema(definition.spec, "spec"),
      status: openApiSchema(definition.status, "status"),
    },
    required: ["spec"],
    ...(definition.validations.length > 0 ? { "x-kubernetes-validations": definition.validations } : {}),
  };
}

export function customResourceDefinition(definition: KindDefinition): CustomResourceDefinition {
  const { kind, plural } = definition;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: definition.shortNames,
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.printerColumns,
          // The API server drops an empty list, so a re-apply by another field manager would conflict.
          ...(definition.selectableFields.length > 0 ? { selectableFields: definition.selectableFields.map((jsonPath) => ({ jsonPath })) } : {}),
          schema: { openAPIV3Schema: rootSchema(definition) },
        },
      ],
    },
  };
}
