// Runs before `npm test` and `npm run demo`: installs the npm dependencies on a fresh clone, or
// when package-lock.json changed since the last install, makes sure botocore is importable, and
// that Debian's redis-server and nginx are there for the replay-store and gateway tests, tmux
// for the kubectl plugin's terminal tests, and chromium for the security-key browser tests.
// Plain JavaScript: it must run before any dependency (TypeScript, tsx) exists.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { ensureNpmDependencies } from "./npm-deps.mjs";

// The interoperability tests sign requests with botocore, run as a Python subprocess; PYTHON
// selects the interpreter there and here alike.
const PYTHON = process.env.PYTHON ?? "python3";
const REQUIREMENTS = fileURLToPath(new URL("../test/interop/requirements.txt", import.meta.url));

function fail(message) {
  console.error(`keygate: ${message}`);
  process.exit(1);
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

function runs(command) {
  return spawnSync(command, ["-v"], { stdio: "ignore" }).status === 0;
}

// Debian packages some tests run for real, installed with apt-get where we may (CI runs as root on
// a clean Debian), else named for the developer to install. Without an optional one, the tests
// that need it skip and say why (only where they cannot install it: never in CI).
function ensureDebianPackage(pkg, present, purpose, { optional = false } = {}) {
  if (present()) return;
  const advice = `${purpose} need ${pkg}: install Debian's ${pkg} package (apt-get install ${pkg})`;
  if (!canInstall() && optional) return console.error(`keygate: ${advice}; until then they skip`);
  if (!canInstall()) fail(advice);
  console.error(`keygate: installing ${pkg} for ${purpose} (apt-get install ${pkg})`);
  aptInstall(pkg);
}

function canInstall() {
  return process.getuid?.() === 0 && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
}

function aptInstall(pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", pkg], { stdio: "inherit", env }) : update;
  if (install.status !== 0) fail(`apt-get could not install ${pkg} (exit ${install.status ?? install.error?.message})`);
}

ensureNpmDependencies();
ensureBotocore();
// The demo needs neither: only `npm test` asks for the packages its tests run.
if (process.env.npm_lifecycle_event === "pretest") ensureTestPackages();

function ensureTestPackages() {
  // The replay-store tests run a real Redis on loopback.
  ensureDebianPackage("redis-server", () => spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0, "the replay-store tests");
  // The gateway tests run a real NGINX (auth_request is built into Debian's); /usr/sbin is not on every PATH.
  ensureDebianPackage("nginx", () => runs("nginx") || runs("/usr/sbin/nginx"), "the gateway tests", { optional: true });
  // The kubectl plugin's tests answer its prompts in a real pseudo-terminal that tmux provides.
  ensureDebianPackage("tmux", () => spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0, "the kubectl plugin's terminal tests");
  // The security-key tests register and use keys in a real browser: Debian's Chromium, headless,
  // with WebAuthn virtual authenticators (test/support/browser.ts, which KEYGATE_CHROMIUM redirects).
  const chromium = process.env.KEYGATE_CHROMIUM ?? "/usr/bin/chromium";
  ensureDebianPackage("chromium", () => spawnSync(chromium, ["--version"], { stdio: "ignore" }).status === 0, "the security-key browser tests");
}
