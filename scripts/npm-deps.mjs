// Installs the npm dependencies on a fresh clone, or when package-lock.json changed since the last
// install. Shared by the scripts that run before `npm test`, `npm run demo` and `npm run test:e2e`.
// Plain JavaScript: it must run before any dependency (TypeScript, tsx) exists.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

export function ensureNpmDependencies() {
  const installed = mtime("node_modules/.package-lock.json");
  const locked = mtime("package-lock.json");
  if (installed !== undefined && (locked === undefined || locked <= installed)) return;
  console.error("keygate: installing npm dependencies (npm ci)");
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
