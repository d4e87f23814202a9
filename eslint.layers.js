// Imports point down only (DESIGN "layers"). Each folder of src/ names the folders it may never
// import: every folder of a higher layer, and the development tooling from anything that ships.
// A kind's folder may not import another kind's, nor the registry that lists them all; the kind
// folders are read from disk, so a new kind is covered without editing this file.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const kindFolders = readdirSync(join(import.meta.dirname, "src/kinds"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// Lowest first. Folders of one layer may import each other only in the foundation layer.
const layers = [
  ["credentials", "signing", "pki", "http", "models"],
  ["api"],
  ["crdgen", "runtime"],
  ["keystore", "replay"],
  ["otp"],
  ["webauthn"],
  ["webhook"],
  ["kinds"],
  ["operator", "verifier"],
  // The operator's program and the kubectl plugin: neither imports the other.
  ["cli", "plugin"],
];
// Below, yet still not to be imported: the verifier shares nothing with the controllers (only
// api/, signing/, keystore/, otp/ and runtime/), and a kind's admission rules need no server.
const never = { verifier: ["kinds", "webhook"], kinds: ["webhook"] };
// Development tooling: builds Kubernetes from Go, runs a local cluster. Never in the image.
const devTooling = ["controlplane", "dev"];

const folderImport = (folder) => ({
  regex: `^(\\.\\./)+${folder}/`,
  message: `imports point down only: see docs/architecture.md (layers); ${folder}/ is not below this folder`,
});

function layerBlocks() {
  return layers.flatMap((layer, index) =>
    layer.map((folder) => {
      const above = layers.slice(index + 1).flat();
      const beside = index === 0 ? [] : layer.filter((other) => other !== folder);
      return {
        files: [`src/${folder}/**/*.ts`],
        rules: { "no-restricted-imports": ["error", { patterns: [...above, ...beside, ...(never[folder] ?? []), ...devTooling].map(folderImport) }] },
      };
    }),
  );
}

function kindBlocks() {
  const above = layers.slice(layers.findIndex((layer) => layer.includes("kinds")) + 1).flat();
  return kindFolders.map((kind) => ({
    files: [`src/kinds/${kind}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...[...above, ...never.kinds, ...devTooling].map(folderImport),
            ...kindFolders
              .filter((other) => other !== kind)
              .map((other) => ({ regex: `^\\.\\./${other}/`, message: `a kind does not import another kind (${other}/): share through runtime/, keystore/ or api/` })),
            { regex: "^\\.\\./registry\\.js$", message: "a kind does not import the registry of kinds" },
          ],
        },
      ],
    },
  }));
}

export const layerRules = [...layerBlocks(), ...kindBlocks()];
