import { beforeAll, describe, expect, it } from "vitest";
import { NodeCluster, nodeOrSkip } from "./cluster.js";

// helm install of charts/keygate onto a real node, with only the image values overridden: the
// Deployments run from keygate's image, the API server calls the webhook through its Service
// (endpoint routing: --enable-aggregator-routing, no kube-proxy on the API server's side), and the
// RBAC in the cluster is the chart's, no more.

const info = nodeOrSkip("chart.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;

interface Deployment {
  metadata: { name: string };
  spec: { replicas: number };
  status: { readyReplicas?: number; updatedReplicas?: number };
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

function keyOf(object: RbacObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

describe.skipIf(!cluster)("helm install onto a real node", () => {
  const c = cluster as NodeCluster;
  const { namespace } = info ?? { namespace: "" };

  beforeAll(async () => {
    await c.installChart();
  });

  it("runs operator ×2 and verifier ×2 from keygate's image, all Ready", async () => {
    const list = await c.json<{ items: Deployment[] }>(["-n", namespace, "get", "deployments"]);
    const ready = Object.fromEntries(list.items.map((d) => [d.metadata.name, `${d.status.readyReplicas ?? 0}/${d.spec.replicas}`]));
    expect(ready).toMatchObject({ "keygate-operator": "2/2", "keygate-verifier": "2/2" });
    const pods = await c.json<{ items: Array<{ spec: { containers: Array<{ image: string }> }; metadata: { labels: Record<string, string> } }> }>([
      "-n",
      namespace,
      "get",
      "pods",
      "-l",
      "app.kubernetes.io/name=keygate",
    ]);
    const keygateImages = new Set(pods.items.filter((p) => p.metadata.labels["app.kubernetes.io/component"] !== "replay-store").flatMap((p) => p.spec.containers.map((container) => container.image)));
    expect([...keygateImages]).toEqual([`${info?.dev.images.find((image) => image.startsWith("keygate.local/keygate:"))}`]);
  });

  it("has the API server call the admission webhook through its Service", async () => {
    await c.kubectl(["create", "namespace", "chart-webhook"]);
    const key = (name: string): string =>
      `apiVersion: iam.keygate.dev/v1alpha1\nkind: AccessKey\nmetadata: {name: ${name}, namespace: chart-webhook}\nspec: {user: alice}\n`;
    await c.apply(key("first"));
    await c.apply(key("second"));
    // Only the webhook knows a user's keys: the CRD's schema cannot refuse a third.
    await expect(c.apply(key("third"))).rejects.toThrow(/admission webhook "accesskeys\.iam\.keygate\.dev" denied the request: user alice already has 2 access keys/);
    await c.kubectl(["-n", "chart-webhook", "wait", "--for=jsonpath={.status.state}=Active", "accesskey/first", "--timeout=60s"]);
    const secret = await c.json<{ data: Record<string, string> }>(["-n", "chart-webhook", "get", "secret", "first-credentials"]);
    expect(Object.keys(secret.data)).toEqual(expect.arrayContaining(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "credentials"]));
  });

  /** The chart's RBAC objects, keyed kind/namespace/name (namespace empty for cluster-scoped ones). */
  async function chartRbac(): Promise<Map<string, RbacObject>> {
    const manifest = (await c.chartManifest()) as unknown as RbacObject[];
    const rbac = manifest.filter((o) => /^(Cluster)?Role(Binding)?$/.test(o.kind));
    return new Map(rbac.map((o) => [keyOf({ ...o, metadata: { ...o.metadata, namespace: o.kind.startsWith("Cluster") ? undefined : (o.metadata.namespace ?? namespace) } }), o]));
  }

  /** Every binding in the cluster with a subject among keygate's service accounts. */
  async function keygateBindings(): Promise<RbacObject[]> {
    const bindings = [
      ...(await c.json<{ items: RbacObject[] }>(["get", "clusterrolebindings"])).items.map((o) => ({ ...o, kind: "ClusterRoleBinding" })),
      ...(await c.json<{ items: RbacObject[] }>(["get", "rolebindings", "--all-namespaces"])).items.map((o) => ({ ...o, kind: "RoleBinding" })),
    ];
    return bindings.filter((binding) => binding.subjects?.some((subject) => subject.kind === "ServiceAccount" && subject.namespace === namespace));
  }

  /** The role a binding grants, as it is in the cluster now. */
  async function boundRole(binding: RbacObject): Promise<{ key: string; rules: Rule[] | undefined }> {
    const kind = binding.roleRef?.kind ?? "";
    const name = binding.roleRef?.name ?? "";
    const roleNamespace = kind === "Role" ? (binding.metadata.namespace ?? "") : "";
    const live = await c.json<RbacObject>([...(roleNamespace ? ["-n", roleNamespace] : []), "get", kind.toLowerCase(), name]);
    return { key: `${kind}/${roleNamespace}/${name}`, rules: live.rules };
  }

  it("grants keygate's service accounts exactly the chart's RBAC, unchanged", async () => {
    const fromChart = await chartRbac();
    const bindings = await keygateBindings();
    expect(bindings.map(keyOf).sort()).toEqual([...fromChart.keys()].filter((key) => key.includes("Binding/")).sort());
    for (const binding of bindings) {
      const { key, rules } = await boundRole(binding);
      // A binding to a role of Kubernetes' own (none today) would have no rules in the chart to compare.
      if (fromChart.has(key)) expect(rules, key).toEqual(fromChart.get(key)?.rules);
    }
  });
});
