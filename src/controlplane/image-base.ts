import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureDebianPackages, requireRootOnDebian } from "./apt.js";
import { exists } from "./binaries.js";
import { docker } from "./docker.js";
import { run } from "./exec.js";
import { ensureImage, imagesCacheDir, type LocalImage } from "./image-cache.js";
import { acquireDirectoryLock } from "./lock.js";

// The base of every local image: Debian bookworm (debootstrap, minbase) with this machine's own
// Node.js and npm copied in, so that nothing comes from a container registry. It stands in for
// the official node image the Dockerfile names: it has apt-get (for tini), npm with a CA store
// (for `npm ci`), and node on PATH.

export const BASE_IMAGE_REPOSITORY = "keygate.local/node-base";
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const HOST_NODE = "/usr/bin/node";
const HOST_NPM = "/usr/lib/node_modules/npm";
/** CAs this machine's administrator added (a TLS-inspecting proxy's, a company's); see below. */
const HOST_EXTRA_CAS = "/usr/local/share/ca-certificates";
/** Bumped when the steps below change in a way the other inputs do not show. */
const RECIPE_VERSION = "1";
const COMPLETE_MARKER = ".complete";

const SOURCES_LIST = [
  `deb ${MIRROR} ${SUITE} main`,
  `deb ${MIRROR} ${SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${SUITE}-security main`,
  "",
].join("\n");

const IMAGE_CHANGES = [
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "ENV LANG=C.UTF-8",
  // Node trusts its own compiled-in CAs only; this makes it (and npm) trust the system store as
  // well, which holds the CAs copied from this machine. Without them npm fails behind a proxy.
  "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
  'CMD ["node"]',
];

/** The Node.js version of /usr/bin/node, without the v: the base image's tag. */
export async function hostNodeVersion(): Promise<string> {
  const { stdout } = await run(HOST_NODE, ["--version"], { timeoutMs: 10_000 });
  return stdout.trim().replace(/^v/, "");
}

export async function baseImageRef(): Promise<string> {
  return `${BASE_IMAGE_REPOSITORY}:${await hostNodeVersion()}`;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

interface ExtraCa {
  name: string;
  pem: Buffer;
}

async function hostExtraCas(): Promise<ExtraCa[]> {
  if (!(await exists(HOST_EXTRA_CAS))) return [];
  const names = (await readdir(HOST_EXTRA_CAS)).filter((name) => name.endsWith(".crt")).sort();
  return Promise.all(names.map(async (name) => ({ name, pem: await readFile(join(HOST_EXTRA_CAS, name)) })));
}

interface BaseInputs {
  nodeVersion: string;
  cas: ExtraCa[];
  /** Everything the rootfs is made of, for the cache key and the image label. */
  parts: (string | Buffer)[];
}

async function baseInputs(): Promise<BaseInputs> {
  for (const path of [HOST_NODE, join(HOST_NPM, "package.json")]) {
    if (!(await exists(path))) throw new Error(`the base image copies this machine's Node.js and npm as Debian's nodejs package lays them out, but ${path} is missing`);
  }
  const nodeVersion = await hostNodeVersion();
  const npmPackage = await readFile(join(HOST_NPM, "package.json"), "utf8");
  const npmVersion = (JSON.parse(npmPackage) as { version: string }).version;
  const cas = await hostExtraCas();
  const parts: (string | Buffer)[] = [RECIPE_VERSION, SUITE, MIRROR, SOURCES_LIST, ...IMAGE_CHANGES, await sha256File(HOST_NODE), npmVersion];
  for (const ca of cas) parts.push(ca.name, ca.pem);
  return { nodeVersion, cas, parts };
}

/**
 * `keygate.local/node-base:<version of /usr/bin/node>`: imported from a rootfs tarball that is
 * built once (debootstrap downloads from deb.debian.org) and cached beside the other builds.
 */
export async function ensureBaseImage(progress: (message: string) => void = () => undefined): Promise<LocalImage> {
  const inputs = await baseInputs();
  const ref = `${BASE_IMAGE_REPOSITORY}:${inputs.nodeVersion}`;
  return ensureImage(
    {
      ref,
      inputs: inputs.parts,
      build: async (label) => {
        const tarball = await ensureRootfsTarball(inputs, progress);
        const changes = [...IMAGE_CHANGES, `LABEL ${label}`].flatMap((change) => ["--change", change]);
        await docker(["import", ...changes, tarball, ref], { timeoutMs: 600_000 });
      },
    },
    progress,
  );
}

async function ensureRootfsTarball(inputs: BaseInputs, progress: (message: string) => void): Promise<string> {
  const key = createHash("sha256");
  for (const part of inputs.parts) key.update(part);
  const dir = join(imagesCacheDir(), `node-base-v${inputs.nodeVersion}-${key.digest("hex").slice(0, 12)}`);
  const tarball = join(dir, "rootfs.tar");
  if (await exists(join(dir, COMPLETE_MARKER))) return tarball;
  const lock = await acquireDirectoryLock(`${dir}.lock`, (owner) =>
    progress(`another process is building the base rootfs (pid ${owner ?? "?"}); waiting for it`),
  );
  try {
    if (await exists(join(dir, COMPLETE_MARKER))) return tarball;
    await buildRootfsTarball(dir, inputs, progress);
    return tarball;
  } finally {
    await lock.release();
  }
}

async function buildRootfsTarball(dir: string, inputs: BaseInputs, progress: (message: string) => void): Promise<void> {
  await requireRootOnDebian("building the base image (debootstrap, chroot)");
  await ensureDebianPackages([{ name: "debootstrap", provides: "/usr/sbin/debootstrap" }], progress);
  const work = `${dir}.build-${process.pid}`;
  const rootfs = join(work, "rootfs");
  await removeTree(work);
  await rm(dir, { recursive: true, force: true });
  try {
    progress(`debootstrap ${SUITE} (minbase) from ${MIRROR} into ${rootfs}; the first build takes a few minutes`);
    await run("debootstrap", ["--variant=minbase", "--include=ca-certificates", SUITE, rootfs, MIRROR], { timeoutMs: 1_800_000 });
    await configureRootfs(rootfs, inputs.cas);
    await copyHostNode(rootfs);
    const out = join(work, "out");
    await mkdir(out);
    await run("tar", ["--numeric-owner", "-C", rootfs, "-cf", join(out, "rootfs.tar"), "."], { timeoutMs: 600_000 });
    await writeFile(join(out, COMPLETE_MARKER), JSON.stringify({ node: inputs.nodeVersion, suite: SUITE, builtAt: new Date().toISOString() }));
    await rename(out, dir);
    progress(`base rootfs ready in ${dir}`);
  } finally {
    await removeTree(work);
  }
}

/** Sources with security updates, this machine's extra CAs, and no package caches. */
async function configureRootfs(rootfs: string, cas: readonly ExtraCa[]): Promise<void> {
  await writeFile(join(rootfs, "etc/apt/sources.list"), SOURCES_LIST);
  // A machine behind a TLS-inspecting proxy reaches npm and Debian over https only with the
  // proxy's CA; copying the administrator's CAs gives the images the trust the host has.
  for (const ca of cas) await writeFile(join(rootfs, HOST_EXTRA_CAS.slice(1), ca.name), ca.pem);
  if (cas.length > 0) await run("chroot", [rootfs, "update-ca-certificates"], { timeoutMs: 120_000 });
  await run("chroot", [rootfs, "apt-get", "clean"], { timeoutMs: 120_000 });
  await rm(join(rootfs, "var/lib/apt/lists"), { recursive: true, force: true });
  await mkdir(join(rootfs, "var/lib/apt/lists/partial"), { recursive: true });
}

/** /usr/bin/node and npm as the nodesource package lays them out, then a check that both run. */
async function copyHostNode(rootfs: string): Promise<void> {
  await copyFile(HOST_NODE, join(rootfs, "usr/bin/node"));
  await cp(HOST_NPM, join(rootfs, HOST_NPM.slice(1)), { recursive: true, verbatimSymlinks: true });
  await symlink("../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr/bin/npm"));
  await symlink("../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr/bin/npx"));
  await run("chroot", [rootfs, "/usr/bin/node", "-e", "process.exit(0)"], { timeoutMs: 60_000 });
  await run("chroot", [rootfs, "/usr/bin/npm", "--version"], { timeoutMs: 60_000 });
}

/** Removes a build tree, unmounting first anything a failed debootstrap left mounted inside it. */
async function removeTree(dir: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run("umount", ["-l", point], { timeoutMs: 30_000 });
  await rm(dir, { recursive: true, force: true });
}
