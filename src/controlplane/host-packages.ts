import { access, constants, readFile } from "node:fs/promises";
import { run } from "./exec.js";

/** A program the host must have, and the Debian package that provides it. */
export interface HostRequirement {
  readonly path: string;
  readonly debianPackage: string;
}

async function present(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isDebianLike(): Promise<boolean> {
  const release = await readFile("/etc/os-release", "utf8").catch(() => "");
  return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release);
}

/**
 * Installs the Debian packages of whatever is missing, or says exactly why it cannot: a real node
 * needs root (network namespaces, mounts, cgroups) and the packages' own paths.
 */
export async function ensureHostPackages(requirements: readonly HostRequirement[], progress: (message: string) => void): Promise<void> {
  if (process.platform !== "linux") throw new Error(`a real node needs Linux; this is ${process.platform}`);
  if (process.getuid?.() !== 0) throw new Error("a real node needs root (it creates network links, mounts and cgroups); run it as root, e.g. with sudo");
  const missing: HostRequirement[] = [];
  for (const requirement of requirements) if (!(await present(requirement.path))) missing.push(requirement);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((requirement) => requirement.debianPackage))];
  if (!(await isDebianLike())) {
    throw new Error(`missing ${missing.map((requirement) => requirement.path).join(", ")}; install the packages that provide them (on Debian: ${packages.join(" ")})`);
  }
  progress(`installing Debian packages ${packages.join(", ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update", "-qq"], { env });
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { env });
  for (const requirement of missing) {
    if (!(await present(requirement.path))) throw new Error(`${requirement.debianPackage} was installed but ${requirement.path} is still missing`);
  }
}
