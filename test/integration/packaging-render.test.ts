import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  BASE_DIR,
  CHART_DIR,
  helmTemplateArgs,
  RELEASE_NAME,
  RELEASE_NAMESPACE,
  renderPackaging,
  staleFiles,
} from "../../scripts/render-deploy.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm, type HelmBinary } from "../../src/controlplane/helm.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { kubeConfig, kubectl } from "../support/cluster.js";
import { find, type Manifest, parseManifests, readText, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

// Every option of the chart switched on, so that each template branch meets the API server.
const EVERYTHING = {
  namespace: { create: true },
  image: { digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000" },
  imagePullSecrets: [{ name: "regcred" }],
  logLevel: "debug",
  operator: {
    replicas: 1,
    leaderElection: false,
    extraArgs: ["--recycle-retention=7d"],
    podAnnotations: { "example.com/team": "platform" },
    nodeSelector: { "kubernetes.io/os": "linux" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "platform", effect: "NoSchedule" }],
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: "a", operator: "Exists" }] } }] } },
    priorityClassName: "system-cluster-critical",
  },
  verifier: {
    trustedProxies: ["10.20.0.0/16", "10.21.0.1"],
    trustedCallers: ["10.30.0.0/16"],
    extraArgs: ["--verifier-host=0.0.0.0"],
    autoscaling: { enabled: true },
  },
  networkPolicy: {
    verifierClients: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateways" } } }],
    metricsClients: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
    webhookClients: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
  },
  serviceMonitor: { enabled: true, labels: { release: "prometheus" } },
  webhook: { certManager: { enabled: true } },
};

// Kinds whose CRDs the test API server does not have (Prometheus Operator, cert-manager).
const SHAPE_ONLY = ["ServiceMonitor", "Issuer", "Certificate"];

let helm: HelmBinary;
let scratch: string;

function progress(message: string): void {
  process.stderr.write(`[helm] ${message}\n`);
}

async function helmRun(args: readonly string[]): Promise<string> {
  return (await run(helm.path, args, { timeoutMs: 60_000 })).stdout;
}

async function template(extra: readonly string[] = []): Promise<string> {
  return helmRun(["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE, "--kube-version", KUBERNETES_VERSION, ...extra]);
}

async function valuesFile(values: object): Promise<string> {
  const file = join(scratch, `values-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(values));
  return file;
}

/** kubectl apply --dry-run=server of a rendering; resolves to kubectl's warnings (stderr). */
async function dryRun(manifests: string): Promise<{ stdout: string; warnings: string }> {
  const file = join(scratch, `render-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, manifests);
  const { stdout, stderr } = await kubectl(["apply", "--server-side", "--dry-run=server", "--field-manager=packaging-test", "-f", file]);
  return { stdout, warnings: stderr };
}

interface PodSpec {
  containers: Array<{ name: string; args: string[]; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
  volumes: Array<{ name: string; secret?: { secretName: string } }>;
}

/** The serving Certificate, and the operator pods mounting its Secret and pointing the flag at it. */
function expectCertManagerWiring(objects: readonly Manifest[], issuer: string): void {
  const certificate = find(objects, "Certificate", "keygate-webhook");
  const service = `keygate-operator.${RELEASE_NAMESPACE}.svc`;
  expect(certificate.spec).toMatchObject({ secretName: "keygate-webhook-cert", dnsNames: [service, `${service}.cluster.local`], issuerRef: { name: issuer } });
  const operator = find(objects, "Deployment", "keygate-operator");
  const pod = (operator.spec as { template: { spec: PodSpec } }).template.spec;
  expect(pod.volumes).toContainEqual({ name: "webhook-cert", secret: { secretName: "keygate-webhook-cert" } });
  const container = pod.containers.find((candidate) => candidate.name === "operator");
  expect(container?.volumeMounts).toContainEqual({ name: "webhook-cert", mountPath: "/var/run/keygate/webhook-cert", readOnly: true });
  expect(container?.args).toContain("--webhook-cert-dir=/var/run/keygate/webhook-cert");
}

function kinds(objects: readonly Manifest[]): string[] {
  return [...new Set(objects.map((object) => object.kind))].sort();
}

describe("the chart and the kustomize base against the real API server", () => {
  beforeAll(async () => {
    helm = await ensureHelm({ progress });
    scratch = await mkdtemp(join(tmpdir(), "keygate-packaging-"));
    // Namespaced objects need their namespace to exist even for a dry run: create it for real,
    // from the base, with its Pod Security labels (warn=restricted makes the API server report
    // every pod template that breaks the standard).
    await kubectl(["apply", "--server-side", "-f", join(REPOSITORY_ROOT, BASE_DIR, "namespace.yaml")]);
  }, 600_000);

  afterAll(async () => {
    await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: RELEASE_NAMESPACE }).catch(() => undefined);
  });

  it("passes helm lint, with the defaults and with every option on", async () => {
    await helmRun(["lint", "--strict", join(REPOSITORY_ROOT, CHART_DIR)]);
    await helmRun(["lint", "--strict", join(REPOSITORY_ROOT, CHART_DIR), "--values", await valuesFile(EVERYTHING)]);
  });

  it("has deploy/base and the CRD copies exactly as rendered from the chart and crds/", async () => {
    const files = await renderPackaging(helm.path);
    const hint = "run `npx tsx scripts/render-deploy.ts` and commit the result";
    for (const file of files) expect(readText(file.path), `${file.path} is stale: ${hint}`).toBe(file.content);
    expect(await staleFiles(files), `left over: ${hint}`).toEqual([]);
    // The script renders what this test applies below.
    expect(helmTemplateArgs(REPOSITORY_ROOT).slice(0, 5)).toEqual(["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE]);
  });

  it("notices a pod template the restricted standard refuses (so silence below means compliance)", async () => {
    const rogue = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "rogue", namespace: RELEASE_NAMESPACE }, spec: { selector: { matchLabels: { app: "rogue" } }, template: { metadata: { labels: { app: "rogue" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } };
    const { warnings } = await dryRun(stringify(rogue));
    expect(warnings).toMatch(/would violate PodSecurity "restricted:latest"/);
  });

  it("renders with the defaults (CRDs included) into objects the API server accepts without a warning", async () => {
    const rendered = await template(["--include-crds"]);
    const objects = parseManifests(rendered);
    expect(kinds(objects)).toEqual(
      [
        "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Role", "RoleBinding",
        "Service", "ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
      ].sort(),
    );
    const { stdout, warnings } = await dryRun(rendered);
    expect(warnings).toBe("");
    expect(stdout.trim().split("\n")).toHaveLength(objects.length);
  });

  it("renders with every option on into objects the API server accepts without a warning", async () => {
    const objects = parseManifests(await template(["--values", await valuesFile(EVERYTHING)]));
    expect(kinds(objects)).toEqual(expect.arrayContaining(["Certificate", "HorizontalPodAutoscaler", "Issuer", "Namespace", "ServiceMonitor"]));
    // The test API server has no Prometheus Operator or cert-manager CRDs: those are checked by shape.
    const monitor = find(objects, "ServiceMonitor", RELEASE_NAME);
    const applicable = objects.filter((object) => !SHAPE_ONLY.includes(object.kind));
    const { stdout, warnings } = await dryRun(applicable.map((object) => stringify(object)).join("---\n"));
    expect(warnings).toBe("");
    expect(stdout.trim().split("\n")).toHaveLength(applicable.length);
    const serving = (port: string): string[] =>
      objects
        .filter((object) => object.kind === "Service" && (object.spec as { ports: Array<{ name: string }> }).ports.some((candidate) => candidate.name === port))
        .map((service) => service.metadata.name)
        .sort();
    expect(serving("http")).toEqual(["keygate-operator", "keygate-verifier"]);
    expect(serving("metrics")).toEqual(["keygate-operator"]);
    expect(monitor.spec).toMatchObject({ endpoints: [{ port: "http", path: "/metrics" }, { port: "metrics", path: "/metrics" }] });
    const verifier = find(objects, "Deployment", "keygate-verifier");
    expect((verifier.spec as { replicas?: number }).replicas).toBeUndefined();
    expectCertManagerWiring(objects, "keygate-webhook-ca");
    // Without an issuerRef, the standard bootstrap: self-signed Issuer -> CA Certificate -> CA Issuer.
    expect(find(objects, "Issuer", "keygate-webhook-selfsigned").spec).toEqual({ selfSigned: {} });
    expect(find(objects, "Certificate", "keygate-webhook-ca").spec).toMatchObject({ isCA: true, secretName: "keygate-webhook-ca", issuerRef: { name: "keygate-webhook-selfsigned", kind: "Issuer" } });
    expect(find(objects, "Issuer", "keygate-webhook-ca").spec).toEqual({ ca: { secretName: "keygate-webhook-ca" } });
  });

  it("uses a given cert-manager issuer and then creates no Issuer of its own", async () => {
    const values = { webhook: { certManager: { enabled: true, issuerRef: { name: "corporate-ca", kind: "ClusterIssuer" } } } };
    const file = await valuesFile(values);
    await helmRun(["lint", "--strict", join(REPOSITORY_ROOT, CHART_DIR), "--values", file]);
    const objects = parseManifests(await template(["--values", file]));
    expect(objects.filter((object) => object.kind === "Issuer")).toEqual([]);
    expectCertManagerWiring(objects, "corporate-ca");
  });

  it("writes image tags given on the command line as numbers as they were typed", async () => {
    const rendered = await template(["--set", "image.tag=7", "--set", "replayStore.bundled.image.repository=keygate.local/redis", "--set", "replayStore.bundled.image.tag=7"]);
    const images = [...rendered.matchAll(/^\s+image: (\S+)$/gm)].map((match) => match[1]);
    expect(new Set(images)).toEqual(new Set(["ghcr.io/keygate/keygate:7", "keygate.local/redis:7"]));
  });

  it.each(["deploy/base", "deploy/overlays/example"])("builds %s with kubectl kustomize into objects the API server accepts", async (dir) => {
    const { stdout: built } = await kubectl(["kustomize", join(REPOSITORY_ROOT, dir)]);
    const objects = parseManifests(built);
    expect(objects.length).toBeGreaterThan(15);
    const { stdout, warnings } = await dryRun(built);
    expect(warnings).toBe("");
    expect(stdout.trim().split("\n")).toHaveLength(objects.length);
  });
});
