// Writes crds/<plural>.<group>.yaml for every kind of the registry, from its schemas in src/api,
// and docs/kinds.md, the table of kinds.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kinds } from "../src/kinds/registry.js";
import { renderKindsDoc } from "../src/crdgen/kinds-doc.js";
import { renderCrd } from "../src/crdgen/render.js";
import { kindSummaries } from "../src/kinds/summaries.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

for (const file of [...kinds.map((kind) => renderCrd(kind.definition)), renderKindsDoc(kindSummaries())]) {
  const target = join(root, file.path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.content);
  console.log(`wrote ${file.path}`);
}
