import { chmod, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ensureHelm,
  HELM_VERSION,
  helmCacheDir,
  helmLdflags,
  helmToolsGo,
  helmWrapperGoMod,
  parseHelmVersion,
} from "../../../src/controlplane/helm.js";

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "helm-"));
}

async function executable(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("the Helm build recipe", () => {
  it("requires the pinned Helm from a throwaway module that imports its command", () => {
    expect(helmWrapperGoMod(HELM_VERSION)).toContain(`require helm.sh/helm/v3 v${HELM_VERSION}\n`);
    expect(helmToolsGo()).toContain('import _ "helm.sh/helm/v3/cmd/helm"');
  });

  it("stamps the version and the Kubernetes version of its client-go, as Helm's Makefile does", () => {
    const flags = helmLdflags("3.22.0", "v0.37.1");
    expect(flags).toContain("-X helm.sh/helm/v3/internal/version.version=v3.22.0");
    expect(flags).toContain("-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37");
    expect(flags).toContain("-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1");
    expect(() => helmLdflags("3.22.0", "v1.2.3")).toThrow(/unexpected k8s.io\/client-go version/);
  });

  it("reads the version helm prints", () => {
    expect(parseHelmVersion("v3.22.0\n")).toBe("v3.22.0");
    expect(parseHelmVersion("Error: unknown command")).toBeUndefined();
  });
});

describe("providing Helm", () => {
  it("uses KEYGATE_HELM as given and builds nothing", async () => {
    const bin = await scratch();
    const helm = await executable(join(bin, "helm"), `echo v${HELM_VERSION}`);
    const cache = await scratch();
    const said: string[] = [];
    // A PATH without go: any build attempt would fail.
    const found = await ensureHelm({ env: { KEYGATE_HELM: helm, KEYGATE_CACHE: cache, PATH: "" }, progress: (m) => said.push(m) });
    expect(found).toEqual({ path: helm, source: "KEYGATE_HELM", version: `v${HELM_VERSION}` });
    expect(said.join("\n")).toContain(`using Helm v${HELM_VERSION} from KEYGATE_HELM=${helm}`);
    expect(await readdir(cache)).toEqual([]);
  });

  it("says so when KEYGATE_HELM is another version", async () => {
    const helm = await executable(join(await scratch(), "helm"), "echo v3.9.0");
    const said: string[] = [];
    await ensureHelm({ env: { KEYGATE_HELM: helm, PATH: "" }, progress: (m) => said.push(m) });
    expect(said.join("\n")).toContain(`keygate pins v${HELM_VERSION}`);
  });

  it("refuses a KEYGATE_HELM that is missing or is not Helm", async () => {
    const dir = await scratch();
    await expect(ensureHelm({ env: { KEYGATE_HELM: join(dir, "absent") } })).rejects.toThrow(/KEYGATE_HELM=.*absent is not an executable file/);
    const impostor = await executable(join(dir, "helm"), 'echo "usage: nothing"');
    await expect(ensureHelm({ env: { KEYGATE_HELM: impostor } })).rejects.toThrow(/does not run as Helm/);
  });

  it("leaves no half cache behind and explains what failed when the build fails", async () => {
    const fakeBin = await scratch();
    await executable(join(fakeBin, "go"), 'echo "go: module lookup disabled by test" >&2; exit 1');
    const cache = await scratch();
    const env = { PATH: `${fakeBin}:/usr/bin:/bin`, KEYGATE_CACHE: cache, HOME: cache };
    await expect(ensureHelm({ env })).rejects.toThrow(/module lookup disabled by test/);
    await expect(ensureHelm({ env })).rejects.toThrow(/nothing was left in the cache.*KEYGATE_HELM/s);
    expect(await readdir(join(cache, "control-plane"))).toEqual([]);
  });

  it("reuses a complete cache without building", async () => {
    const cache = await scratch();
    const dir = helmCacheDir({ KEYGATE_CACHE: cache });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".complete"), "{}");
    const found = await ensureHelm({ env: { KEYGATE_CACHE: cache, PATH: "" } });
    expect(found).toEqual({ path: join(dir, "helm"), source: "cache", version: `v${HELM_VERSION}` });
  });
});
