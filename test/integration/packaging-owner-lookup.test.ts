import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, RELEASE_NAME, RELEASE_NAMESPACE } from "../../scripts/render-deploy.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm, type HelmBinary } from "../../src/controlplane/helm.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { find, parseManifests, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

let helm: HelmBinary;

function template(set: readonly string[]): Promise<string> {
  const args = ["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE, "--kube-version", KUBERNETES_VERSION, ...set.flatMap((value) => ["--set", value])];
  return run(helm.path, args, { timeoutMs: 60_000 }).then((result) => result.stdout);
}

/** The owner-lookup flags of the verifier's and the operator's container (both serve the verification API). */
async function scopeFlags(set: readonly string[]): Promise<string[][]> {
  const manifests = parseManifests(await template(set));
  return ["verifier", "operator"].map((component) => {
    const deployment = find(manifests, "Deployment", `${RELEASE_NAME}-${component}`);
    const containers = (deployment.spec as { template: { spec: { containers: Array<{ args?: string[] }> } } }).template.spec.containers;
    return containers.flatMap((container) => container.args ?? []).filter((arg) => arg.startsWith("--owner-lookup-scope"));
  });
}

describe("the chart's verifier.ownerLookupScope", () => {
  beforeAll(async () => {
    helm = await ensureHelm({ progress: (message) => process.stderr.write(`[helm] ${message}\n`) });
  }, 600_000);

  it("passes cluster by default to both the verifier and the operator", async () => {
    expect(await scopeFlags([])).toEqual([["--owner-lookup-scope=cluster"], ["--owner-lookup-scope=cluster"]]);
  });

  it("passes namespace when set", async () => {
    expect(await scopeFlags(["verifier.ownerLookupScope=namespace"])).toEqual([["--owner-lookup-scope=namespace"], ["--owner-lookup-scope=namespace"]]);
  });

  it("refuses any other scope, naming the value and the choices", async () => {
    await expect(template(["verifier.ownerLookupScope=tenant"])).rejects.toThrow(/verifier.ownerLookupScope must be cluster or namespace/);
  });
});
