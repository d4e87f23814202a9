// Runs before `npm test` and `npm run demo`: installs the npm dependencies on a fresh clone, or
// when package-lock.json changed since the last install, makes sure botocore is importable, and
// that Debian's redis-server is there for the replay-store tests.
// Plain JavaScript: it must run before any dependency (TypeScript, tsx) exists.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

// The interoperability tests sign requests with botocore, run as a Python subprocess; PYTHON
// selects the interpreter there and here alike.
const PYTHON = process.env.PYTHON ?? "python3";
const REQUIREMENTS = fileURLToPath(new URL("../test/interop/requirements.txt", import.meta.url));

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function fail(message) {
  console.error(`keygate: ${message}`);
  process.exit(1);
}

function ensureNpmDependencies() {
  const installed = mtime("node_modules/.package-lock.json");
  const locked = mtime("package-lock.json");
  if (installed !== undefined && (locked === undefined || locked <= installed)) return;
  console.error("keygate: installing npm dependencies (npm ci)");
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function requirementLines() {
  return readFileSync(REQUIREMENTS, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function ensureBotocore() {
  const probe = spawnSync(PYTHON, ["-c", "import botocore"], { stdio: "ignore" });
  if (probe.error) fail(`cannot run ${PYTHON} (${probe.error.message}); the interoperability tests need Python 3 with pip, or PYTHON set to an interpreter`);
  if (probe.status === 0) return;
  console.error(`keygate: installing ${requirementLines().join(", ")} for the interoperability tests (${PYTHON} -m pip install -r ${REQUIREMENTS})`);
  const result = spawnSync(PYTHON, ["-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], { stdio: "inherit" });
  if (result.status !== 0) {
    fail(`pip could not install ${REQUIREMENTS} (exit ${result.status ?? result.error?.message}). Install it into a Python environment yourself (a virtualenv works) and set PYTHON to that interpreter.`);
  }
}

// The replay-store tests run a real Redis on loopback: Debian's redis-server, installed with
// apt-get where we may (CI runs as root on a clean Debian), else named for the developer to install.
function ensureRedisServer() {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0) return;
  const root = process.getuid?.() === 0;
  const aptGet = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!root || !aptGet) fail("the replay-store tests need redis-server on PATH: install Debian's redis-server package (apt-get install redis-server)");
  console.error("keygate: installing redis-server for the replay-store tests (apt-get install redis-server)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "redis-server"], { stdio: "inherit", env }) : update;
  if (install.status !== 0) fail(`apt-get could not install redis-server (exit ${install.status ?? install.error?.message})`);
}

ensureNpmDependencies();
ensureBotocore();
ensureRedisServer();
