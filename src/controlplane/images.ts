import { cp, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../paths.js";
import { ensureDebianPackages } from "./apt.js";
import { ensureBaseImage } from "./image-base.js";
import { ensureImage, imagesCacheDir, INPUTS_LABEL, inspectImage, type LocalImage } from "./image-cache.js";
import { docker } from "./docker.js";
import { run } from "./exec.js";

// The images of keygate's local node and end-to-end tests, all built on this machine: nothing is
// pulled from a registry. Each is rebuilt only when what it is made of changed (image-cache.ts).
// Development tooling: never imported by shipped code.

export { baseImageRef, BASE_IMAGE_REPOSITORY, ensureBaseImage } from "./image-base.js";
export type { LocalImage } from "./image-cache.js";

export const PAUSE_IMAGE = "keygate.local/pause:3.10";
export const REDIS_IMAGE = "keygate.local/redis:7";
export const NGINX_IMAGE = "keygate.local/nginx:1";
export const KEYGATE_IMAGE_REPOSITORY = "keygate.local/keygate";

/**
 * `helm --set` values that make the chart's bundled Redis (replay store) run REDIS_IMAGE. Nothing
 * else changes: the image runs the chart's args, uid and read-only root filesystem as they are.
 * Never pull: the image is imported into the node's containerd, and no registry has it.
 */
export const REDIS_CHART_VALUES = [
  "replayStore.bundled.image.repository=keygate.local/redis",
  "replayStore.bundled.image.tag=7",
  "replayStore.bundled.image.pullPolicy=Never",
] as const;

type Progress = (message: string) => void;
const silent: Progress = () => undefined;

const RECIPES_DIR = join(dirname(fileURLToPath(import.meta.url)), "image-recipes");
const BUILD_TIMEOUT_MS = 1_800_000;

/** The files of a recipe folder, names and contents in a stable order, for its inputs hash. */
async function recipeInputs(recipe: string): Promise<(string | Buffer)[]> {
  const dir = join(RECIPES_DIR, recipe);
  const names = (await readdir(dir)).sort();
  const contents = await Promise.all(names.map((name) => readFile(join(dir, name))));
  return names.flatMap((name, index) => [name, contents[index] ?? ""]);
}

/** A copy of a recipe folder to build from, so that build outputs never land in the sources. */
async function recipeContext(recipe: string): Promise<string> {
  const context = await mkdtemp(join(imagesCacheDir(), `.context-${recipe}-`));
  await cp(join(RECIPES_DIR, recipe), context, { recursive: true });
  return context;
}

/** `docker build` of a recipe folder, FROM the base image, with host networking for apt-get. */
async function ensureRecipeImage(recipe: string, ref: string, progress: Progress): Promise<LocalImage> {
  const base = await ensureBaseImage(progress);
  return ensureImage(
    {
      ref,
      inputs: [base.id, ...(await recipeInputs(recipe))],
      build: async (label) => {
        const context = await recipeContext(recipe);
        try {
          const args = ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${base.ref}`, "--label", label, "-t", ref, context];
          await docker(args, { timeoutMs: BUILD_TIMEOUT_MS });
        } finally {
          await rm(context, { recursive: true, force: true });
        }
      },
    },
    progress,
  );
}

/** `keygate.local/redis:7`: Debian's redis-server, non-root, compatible with the chart's bundled Redis. */
export function ensureRedisImage(progress: Progress = silent): Promise<LocalImage> {
  return ensureRecipeImage("redis", REDIS_IMAGE, progress);
}

/** `keygate.local/nginx:1`: Debian's nginx, non-root, server blocks from /etc/nginx/conf.d, writes under /tmp. */
export function ensureNginxImage(progress: Progress = silent): Promise<LocalImage> {
  return ensureRecipeImage("nginx", NGINX_IMAGE, progress);
}

/** gcc and a static libc (libc6-dev has libc.a), installed when missing. */
async function gccVersion(progress: Progress): Promise<string> {
  const toolchain = [
    { name: "gcc", provides: "/usr/bin/gcc" },
    { name: "libc6-dev", provides: "/usr/include/stdio.h" },
  ];
  await ensureDebianPackages(toolchain, progress);
  return (await run("gcc", ["--version"], { timeoutMs: 30_000 })).stdout.split("\n")[0] ?? "";
}

/** `keygate.local/pause:3.10`: a static C program FROM scratch that sleeps until SIGTERM and reaps children. */
export async function ensurePauseImage(progress: Progress = silent): Promise<LocalImage> {
  return ensureImage(
    {
      ref: PAUSE_IMAGE,
      inputs: [await gccVersion(progress), ...(await recipeInputs("pause"))],
      build: async (label) => {
        const context = await recipeContext("pause");
        try {
          const binary = join(context, "pause");
          await run("gcc", ["-static", "-Os", "-Wall", "-Werror", "-o", binary, join(context, "pause.c")], { timeoutMs: 120_000 });
          await run("strip", [binary], { timeoutMs: 30_000 });
          await docker(["build", "--label", label, "-t", PAUSE_IMAGE, context], { timeoutMs: BUILD_TIMEOUT_MS });
        } finally {
          await rm(context, { recursive: true, force: true });
        }
      },
    },
    progress,
  );
}

/**
 * `keygate.local/keygate:<tag>` from the repository's own Dockerfile, FROM the local base image
 * instead of the official node image. Not label-cached: the build context is what .dockerignore
 * admits, and the engine's layer cache already keys every step on exactly that, so an unchanged
 * tree rebuilds in seconds with every step cached.
 */
export async function buildKeygateImage(tag: string, progress: Progress = silent): Promise<LocalImage> {
  const base = await ensureBaseImage(progress);
  const ref = `${KEYGATE_IMAGE_REPOSITORY}:${tag}`;
  const before = await inspectImage(ref);
  progress(`building ${ref} from ${join(PACKAGE_ROOT, "Dockerfile")} on ${base.ref}`);
  // The base's inputs label would be inherited through FROM; this image is not label-cached.
  const labels = ["--label", `${INPUTS_LABEL}=`, "--label", `local.keygate.base=${base.ref}@${base.id}`];
  const args = ["build", "--network", "host", "--build-arg", `NODE_IMAGE=${base.ref}`, ...labels, "-t", ref, PACKAGE_ROOT];
  await docker(args, { timeoutMs: BUILD_TIMEOUT_MS });
  const after = await inspectImage(ref);
  if (!after) throw new Error(`docker build left no image ${ref}`);
  return { ref, id: after.id, source: before?.id === after.id ? "cache" : "built" };
}

/** Writes an image to a tarball (`docker save`), e.g. to import it into containerd; written whole or not at all. */
export async function saveImage(ref: string, tarFile: string): Promise<void> {
  const partial = `${tarFile}.partial-${process.pid}`;
  try {
    await docker(["save", "-o", partial, ref], { timeoutMs: 600_000 });
    await rename(partial, tarFile);
  } finally {
    await rm(partial, { force: true });
  }
}
