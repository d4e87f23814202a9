import { access, chmod, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureControlPlaneBinaries } from "../../../src/controlplane/binaries.js";
import { CONTROL_PLANE_BINARIES } from "../../../src/controlplane/versions.js";

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "binaries-"));
}

async function executable(path: string, body: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

describe("providing the control-plane binaries", () => {
  it("uses KUBEBUILDER_ASSETS as given and builds nothing", async () => {
    const assets = await scratch();
    for (const binary of CONTROL_PLANE_BINARIES) await executable(join(assets, binary), "exit 0");
    const cache = await scratch();
    // A PATH without go: any build attempt would fail.
    const binaries = await ensureControlPlaneBinaries({ env: { KUBEBUILDER_ASSETS: assets, KEYGATE_CACHE: cache, PATH: "" } });
    expect(binaries.source).toBe("KUBEBUILDER_ASSETS");
    expect(binaries.path("kube-apiserver")).toBe(join(assets, "kube-apiserver"));
    expect(await readdir(cache)).toEqual([]);
  });

  it("names the binaries KUBEBUILDER_ASSETS lacks", async () => {
    const assets = await scratch();
    await executable(join(assets, "etcd"), "exit 0");
    await expect(ensureControlPlaneBinaries({ env: { KUBEBUILDER_ASSETS: assets } })).rejects.toThrow(
      /lacks executable kube-apiserver, kube-controller-manager, kubectl/,
    );
  });

  it("leaves no half cache behind and explains what failed when the build fails", async () => {
    const fakeBin = await scratch();
    await executable(join(fakeBin, "go"), 'echo "go: module lookup disabled by test" >&2; exit 1');
    const cache = await scratch();
    const env = { PATH: `${fakeBin}:/usr/bin:/bin`, KEYGATE_CACHE: cache, HOME: cache };
    await expect(ensureControlPlaneBinaries({ env })).rejects.toThrow(/module lookup disabled by test/);
    await expect(ensureControlPlaneBinaries({ env })).rejects.toThrow(/nothing was left in the cache/);
    expect(await readdir(join(cache, "control-plane"))).toEqual([]);
  });

  it("reuses a complete cache without building", async () => {
    const cache = await scratch();
    const { versionsKey } = await import("../../../src/controlplane/versions.js");
    const dir = join(cache, "control-plane", versionsKey());
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".complete"), "{}");
    const binaries = await ensureControlPlaneBinaries({ env: { KEYGATE_CACHE: cache, PATH: "" } });
    expect(binaries.source).toBe("cache");
    await access(join(dir, ".complete"));
  });
});
