import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { kinds } from "../../../src/kinds/registry.js";
import { renderKindsDoc } from "../../../src/crdgen/kinds-doc.js";
import { renderCrd } from "../../../src/crdgen/render.js";
import { kindSummaries } from "../../../src/kinds/summaries.js";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

async function committed(path: string): Promise<string | undefined> {
  try {
    return await readFile(join(repositoryRoot, path), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

describe("the committed CRDs", () => {
  it.each([...kinds.map(({ definition }) => [definition.kind, renderCrd(definition)] as const), ["the table of kinds", renderKindsDoc(kindSummaries())] as const])(
    "match what the generator produces for %s",
    async (_kind, generated) => {
      const stale = `${generated.path} is missing or stale: run \`npm run gen:crds\` and commit the result`;
      expect(await committed(generated.path), stale).toBe(generated.content);
    },
  );
});
