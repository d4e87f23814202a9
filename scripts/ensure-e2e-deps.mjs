// Runs before `npm run test:e2e`: installs the npm dependencies, then checks what the end-to-end
// tests need and cannot install themselves. They build images with debootstrap and run them on
// a Docker engine they start, installing Debian's docker.io and debootstrap with apt-get: so
// Linux, root and Debian. The verdict goes to .keygate/e2e-prerequisites.json, which
// vitest.e2e.config.ts hands to the tests: without a prerequisite they skip, and this script
// says why. With CI set, a missing prerequisite fails the run instead: CI must run them.
// Plain JavaScript: it must run before any dependency (TypeScript, tsx) exists.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { ensureNpmDependencies } from "./npm-deps.mjs";

const VERDICT = ".keygate/e2e-prerequisites.json";

function missingPrerequisite() {
  if (process.platform !== "linux") return `they need Linux (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `they need root: they start dockerd, run debootstrap and apt-get (this runs as uid ${uid})`;
  if (!existsSync("/etc/debian_version")) return "they need Debian: they install docker.io and debootstrap with apt-get (no /etc/debian_version here)";
  if (spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) return "they need Debian's apt-get, which does not run here";
  return undefined;
}

ensureNpmDependencies();
const skip = missingPrerequisite();
mkdirSync(".keygate", { recursive: true });
writeFileSync(VERDICT, `${JSON.stringify({ skip: skip ?? null, checkedAt: new Date().toISOString() })}\n`);
if (skip && process.env.CI) {
  console.error(`keygate: the end-to-end tests cannot run: ${skip}. CI is set, so this fails instead of skipping.`);
  process.exit(1);
}
if (skip) console.error(`keygate: the end-to-end tests will skip: ${skip}.`);
