import { mkdir, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Writes a Secret's data out the way the kubelet presents a Secret volume: the files in a
 * timestamped directory, a `..data` symlink to it, and one symlink per data key at the top
 * (`key -> ..data/key`), mode 0644 (the volume's defaultMode). Returns the mount directory.
 */
export async function mountSecretVolume(data: Readonly<Record<string, string>>): Promise<string> {
  const mount = await mkdtemp(join(tmpdir(), "secret-volume-"));
  const payload = `..${new Date().toISOString().replace(/[-:.TZ]/g, "_")}`;
  await mkdir(join(mount, payload), { mode: 0o755 });
  for (const [key, value] of Object.entries(data)) await writeFile(join(mount, payload, key), value, { mode: 0o644 });
  await symlink(payload, join(mount, "..data"));
  for (const key of Object.keys(data)) await symlink(join("..data", key), join(mount, key));
  return mount;
}

/** A mounted file's content, as a workload reads it (through the symlinks). */
export function readMounted(mount: string, key: string): Promise<string> {
  return readFile(join(mount, key), "utf8");
}

/**
 * Runs `fn` with these environment variables set (undefined: unset), then puts the environment
 * back exactly as it was, whatever `fn` does.
 */
export async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}
