import { access } from "node:fs/promises";
import { run } from "./exec.js";

// The container tooling installs what it needs from Debian, as CI does on a clean machine: only
// as root on Debian, where apt-get can. Anywhere else it says what is missing instead.

export interface DebianPackage {
  /** The Debian package name, e.g. `docker.io`. */
  name: string;
  /** A file the package installs; present means installed. */
  provides: string;
}

async function present(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Why this machine cannot run the container tooling (root on Debian), or undefined when it can. */
export async function rootOnDebianProblem(): Promise<string | undefined> {
  if (process.platform !== "linux") return `this is ${process.platform}, not Linux`;
  if (process.getuid?.() !== 0) return `this process runs as uid ${String(process.getuid?.())}, not root`;
  if (!(await present("/etc/debian_version"))) return "this is not Debian (no /etc/debian_version)";
  if (!(await present("/usr/bin/apt-get"))) return "apt-get is missing (/usr/bin/apt-get)";
  return undefined;
}

/** Fails with a message naming the purpose and the reason unless this is root on Debian. */
export async function requireRootOnDebian(purpose: string): Promise<void> {
  const problem = await rootOnDebianProblem();
  if (problem) throw new Error(`${purpose} needs root on Debian (it runs apt-get, debootstrap and dockerd), but ${problem}`);
}

/** Installs whichever of the packages is missing with apt-get (one update, one install). */
export async function ensureDebianPackages(packages: readonly DebianPackage[], progress: (message: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) {
    if (!(await present(pkg.provides))) missing.push(pkg.name);
  }
  if (missing.length === 0) return;
  await requireRootOnDebian(`installing ${missing.join(", ")}`);
  progress(`installing ${missing.join(", ")} (apt-get install)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update", "-qq"], { env, timeoutMs: 300_000 });
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env, timeoutMs: 900_000 });
}
