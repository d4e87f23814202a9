// Runs before `npm test` and `npm run demo`: installs the npm dependencies on a fresh clone, or
// when package-lock.json changed since the last install. Plain JavaScript: it must run before
// any dependency (TypeScript, tsx) exists.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const installed = mtime("node_modules/.package-lock.json");
const locked = mtime("package-lock.json");
if (installed === undefined || (locked !== undefined && locked > installed)) {
  console.error("keygate: installing npm dependencies (npm ci)");
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
