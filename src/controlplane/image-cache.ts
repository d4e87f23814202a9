import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot } from "./binaries.js";
import { docker } from "./docker.js";
import { acquireDirectoryLock } from "./lock.js";

// Every local image carries a label with a hash of what it was built from (recipe files, the
// base image's id, copied binaries). An image whose label matches is used as it is; any other
// input builds it again. Builds of one image are serialised between processes by a lock.

/** The label holding the inputs hash of an image built by this tooling. */
export const INPUTS_LABEL = "local.keygate.inputs";

export interface LocalImage {
  /** The reference to run or save, e.g. `keygate.local/redis:7`. */
  ref: string;
  /** The image id (sha256:…). */
  id: string;
  /** Whether this call built it, or found it already built from the same inputs. */
  source: "cache" | "built";
}

export interface ImageRecipe {
  ref: string;
  /** What the image is built from, in a stable order; its hash is the image's label. */
  inputs: readonly (string | Buffer)[];
  /** Builds `ref`, setting the label given as `key=value` on it. */
  build(label: string): Promise<void>;
}

export function inputsHash(inputs: readonly (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const input of inputs) {
    // Length-prefixed, so that ["ab", "c"] and ["a", "bc"] differ.
    hash.update(`${input.length}:`);
    hash.update(input);
  }
  return hash.digest("hex");
}

/** Where image builds keep their work and caches. */
export function imagesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "images");
}

/** The id and inputs label of a local image, or undefined when the engine has no such image. */
export async function inspectImage(ref: string): Promise<{ id: string; inputs: string } | undefined> {
  try {
    const format = `{{.Id}} {{index .Config.Labels "${INPUTS_LABEL}"}}`;
    const { stdout } = await docker(["image", "inspect", "--format", format, ref]);
    const [id = "", inputs = ""] = stdout.trim().split(" ");
    return { id, inputs };
  } catch {
    return undefined;
  }
}

async function builtFrom(ref: string, hash: string): Promise<string | undefined> {
  const image = await inspectImage(ref);
  return image?.inputs === hash ? image.id : undefined;
}

/** The image of the recipe: the local one when its label matches the inputs, else built now. */
export async function ensureImage(recipe: ImageRecipe, progress: (message: string) => void): Promise<LocalImage> {
  const hash = inputsHash(recipe.inputs);
  const cachedId = await builtFrom(recipe.ref, hash);
  if (cachedId) return { ref: recipe.ref, id: cachedId, source: "cache" };
  const dir = imagesCacheDir();
  await mkdir(dir, { recursive: true });
  const lockName = `${recipe.ref.replace(/[^A-Za-z0-9.-]+/g, "_")}.lock`;
  const lock = await acquireDirectoryLock(join(dir, lockName), (owner) =>
    progress(`another process is building ${recipe.ref} (pid ${owner ?? "?"}); waiting for it`),
  );
  try {
    const builtMeanwhile = await builtFrom(recipe.ref, hash);
    if (builtMeanwhile) return { ref: recipe.ref, id: builtMeanwhile, source: "cache" };
    progress(`building ${recipe.ref}`);
    await recipe.build(`${INPUTS_LABEL}=${hash}`);
    const id = await builtFrom(recipe.ref, hash);
    if (!id) throw new Error(`building ${recipe.ref} left no image labelled ${INPUTS_LABEL}=${hash}`);
    return { ref: recipe.ref, id, source: "built" };
  } finally {
    await lock.release();
  }
}
