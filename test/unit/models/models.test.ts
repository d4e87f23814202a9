import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ciDeployerKey, ciDeployerPhone, ciDeployerSession } from "../../../examples/typescript/manifests.js";
import { committedModelPaths, MODELS_DIR, renderModels, REPOSITORY_ROOT } from "../../../scripts/gen-models.js";
import { parseAccessKey } from "../../../src/api/accesskey.js";
import { parseMfaDevice } from "../../../src/api/mfadevice.js";
import type { ParseResult } from "../../../src/api/parse.js";
import { parseTemporaryCredential } from "../../../src/api/temporarycredential.js";
import { AccessKey } from "../../../src/models/index.js";

const stale = `${MODELS_DIR} is stale: run \`npm run gen:models\` and commit the result`;

describe("the committed models", () => {
  it("are exactly the files the generator produces from the committed CRDs", async () => {
    const generated = await renderModels();
    expect(await committedModelPaths(), stale).toEqual(generated.map((file) => file.path).sort());
    for (const file of generated) {
      const committed = await readFile(join(REPOSITORY_ROOT, MODELS_DIR, file.path), "utf8");
      expect(committed, `${file.path}: ${stale}`).toBe(file.content);
    }
    // The generator runs as a child process and compiles ajv validators: seconds, more when busy.
  }, 60_000);

  it("validate against the CRD's schema, naming the offending field", () => {
    const key = new AccessKey({ metadata: { name: "k" }, spec: { user: "u", state: "Disabled" as "Active" } });
    expect(() => key.validate()).toThrow(/spec\/state/);
  });
});

interface Example {
  readonly kind: string;
  readonly build: () => { toJSON(): unknown };
  readonly parse: (input: unknown) => ParseResult<unknown>;
  readonly yaml: string;
}

const examples: readonly Example[] = [
  { kind: "AccessKey", build: ciDeployerKey, parse: parseAccessKey, yaml: "accesskey.yaml" },
  { kind: "MfaDevice", build: ciDeployerPhone, parse: parseMfaDevice, yaml: "mfadevice.yaml" },
  { kind: "TemporaryCredential", build: ciDeployerSession, parse: parseTemporaryCredential, yaml: "temporarycredential.yaml" },
];

describe("the TypeScript example", () => {
  it.each(examples.map((example) => [example.kind, example] as const))(
    "builds a %s that keygate's own parser accepts",
    (_kind, { build, parse: parseKind }) => {
      const result = parseKind(build().toJSON());
      expect(result.ok ? undefined : result.error.message).toBeUndefined();
    },
  );

  it.each(examples.map((example) => [example.kind, example.yaml, example] as const))(
    "builds the same %s as examples/%s",
    async (_kind, yaml, { build }) => {
      const written = parse(await readFile(join(REPOSITORY_ROOT, "examples", yaml), "utf8")) as unknown;
      expect(build().toJSON()).toEqual(written);
    },
  );
});
