import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, RELEASE_NAME, RELEASE_NAMESPACE } from "../../scripts/render-deploy.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm, type HelmBinary } from "../../src/controlplane/helm.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { find, flag, onlyContainer, parseManifests, podSpec, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

// The chart's rule: more than one process serving the verification API needs a replay store they
// share. Only helm itself can show that `helm template` fails, so this runs the real one.
let helm: HelmBinary;

async function template(values: readonly string[]): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const args = ["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE, "--kube-version", KUBERNETES_VERSION];
  try {
    const { stdout } = await run(helm.path, [...args, ...values.flatMap((value) => ["--set", value])], { timeoutMs: 60_000 });
    return { ok: true, text: stdout };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

const MEMORY = "replayStore.bundled.enabled=false";

describe("the chart's replay store", () => {
  beforeAll(async () => {
    helm = await ensureHelm({ progress: (message) => process.stderr.write(`[helm] ${message}\n`) });
  }, 600_000);

  it.each([
    ["two verifier replicas", [MEMORY, "operator.replicas=1", "verifier.replicas=2"]],
    ["the verifier's HPA", [MEMORY, "operator.replicas=1", "verifier.replicas=1", "verifier.autoscaling.enabled=true"]],
    ["two operator replicas (each serves the API too)", [MEMORY, "operator.replicas=2", "verifier.enabled=false"]],
    ["one operator and one verifier", [MEMORY, "operator.replicas=1", "verifier.replicas=1"]],
  ])("refuses a store in memory with %s, saying why and what to set", async (_what, values) => {
    const result = await template(values);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toMatch(/replay store in memory is per process.*Set replayStore.bundled.enabled=true, or replayStore.url/);
  });

  it("allows memory for a single process", async () => {
    const result = await template([MEMORY, "operator.replicas=1", "verifier.enabled=false"]);
    if (!result.ok) throw new Error(result.error);
    const operator = onlyContainer(find(parseManifests(result.text), "Deployment", "keygate-operator"));
    expect(flag(operator.args ?? [], "replay-store")).toBe("memory");
  });

  it.each([
    ["a password in the URL", ["replayStore.url=redis://:hunter2@redis:6379", MEMORY], /must not carry a password/],
    ["a URL of another scheme", ["replayStore.url=http://redis:6379", MEMORY], /must be a redis:\/\/ or rediss:\/\/ URL/],
    ["both an external and the bundled Redis", ["replayStore.url=redis://redis:6379"], /set url \(an external Redis\) or bundled.enabled, not both/],
  ])("refuses %s", async (_what, values, message) => {
    const result = await template(values);
    expect(result.ok ? "" : result.error).toMatch(message);
  });

  it("passes an external Redis over TLS, its password from a Secret and its CA mounted, to every replica, and bundles none", async () => {
    const result = await template([
      MEMORY,
      "replayStore.url=rediss://keygate@redis.example.test:6380/1",
      "replayStore.passwordSecret.name=redis-auth",
      "replayStore.caSecret.name=redis-ca",
      "replayStore.keyPrefix=prod",
      "verifier.autoscaling.enabled=true",
    ]);
    if (!result.ok) throw new Error(result.error);
    const objects = parseManifests(result.text);
    expect(objects.filter((object) => object.metadata.name === "keygate-redis")).toEqual([]);
    for (const name of ["keygate-operator", "keygate-verifier"]) {
      const deployment = find(objects, "Deployment", name);
      const container = onlyContainer(deployment);
      const args = container.args ?? [];
      expect(flag(args, "replay-store")).toBe("rediss://keygate@redis.example.test:6380/1");
      expect(flag(args, "replay-store-key-prefix")).toBe("prod");
      expect(flag(args, "replay-store-ca-file")).toBe("/var/run/keygate/replay-store-ca/ca.crt");
      expect(container.env).toContainEqual({ name: "KEYGATE_REPLAY_STORE_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } } });
      expect(container.volumeMounts).toContainEqual({ name: "replay-store-ca", mountPath: "/var/run/keygate/replay-store-ca", readOnly: true });
      expect(podSpec(deployment).volumes).toContainEqual({ name: "replay-store-ca", secret: { secretName: "redis-ca" } });
    }
  });

  it("runs the bundled Redis from the configured image", async () => {
    const result = await template(["replayStore.bundled.image.repository=registry.example.test/redis", "replayStore.bundled.image.digest=sha256:" + "0".repeat(64)]);
    if (!result.ok) throw new Error(result.error);
    const redis = onlyContainer(find(parseManifests(result.text), "Deployment", "keygate-redis"));
    expect(redis.image).toBe(`registry.example.test/redis@sha256:${"0".repeat(64)}`);
  });
});
