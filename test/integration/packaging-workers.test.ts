import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, RELEASE_NAME, RELEASE_NAMESPACE } from "../../scripts/render-deploy.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm, type HelmBinary } from "../../src/controlplane/helm.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { find, parseManifests, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

let helm: HelmBinary;

/** `--set` each value; a value after "string:" with `--set-string`. */
function template(set: readonly string[]): Promise<string> {
  const flags = set.flatMap((value) => (value.startsWith("string:") ? ["--set-string", value.slice("string:".length)] : ["--set", value]));
  const args = ["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE, "--kube-version", KUBERNETES_VERSION, ...flags];
  return run(helm.path, args, { timeoutMs: 60_000 }).then((result) => result.stdout);
}

async function verifierArgs(set: readonly string[]): Promise<string[]> {
  const deployment = find(parseManifests(await template(set)), "Deployment", `${RELEASE_NAME}-verifier`);
  const containers = (deployment.spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } }).template.spec.containers;
  return containers.find((container) => container.name === "verifier")?.args ?? [];
}

describe("the chart's verifier.workers", () => {
  beforeAll(async () => {
    helm = await ensureHelm({ progress: (message) => process.stderr.write(`[helm] ${message}\n`) });
  }, 600_000);

  it("passes no --workers by default: the process takes its container's CPU limit", async () => {
    expect((await verifierArgs([])).filter((arg) => arg.startsWith("--workers"))).toEqual([]);
  });

  it("passes --workers when set, numbers given as strings too", async () => {
    expect(await verifierArgs(["verifier.workers=3"])).toContain("--workers=3");
    expect(await verifierArgs(["string:verifier.workers=2"])).toContain("--workers=2");
  });

  it("refuses a count that is not a positive integer", async () => {
    await expect(template(["verifier.workers=-1"])).rejects.toThrow(/verifier.workers must be a positive integer/);
    await expect(template(["verifier.workers=two"])).rejects.toThrow(/verifier.workers must be a positive integer/);
  });
});
