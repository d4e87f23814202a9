import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { KEK_SECRET_NAME } from "../../../src/keystore/kek.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../../../src/labels.js";
import { LEASE_NAME } from "../../../src/operator/operator.js";
import { MUTATING_WEBHOOK_CONFIGURATION_NAME, WEBHOOK_CONFIGURATION_NAME } from "../../../src/webhook/registration.js";
import {
  baseObjects,
  baseResources,
  type Container,
  find,
  flag,
  grants,
  type Manifest,
  onlyContainer,
  podLabels,
  podSpec,
  REPOSITORY_ROOT,
  restrictedViolations,
} from "./manifests.js";

// deploy/base is the chart rendered with deploy/values-kustomize.yaml (an integration test checks
// that they agree), so these checks hold for both installs.
const NAMESPACE = "keygate-system";
const objects = baseObjects();
const operator = find(objects, "Deployment", "keygate-operator");
const verifier = find(objects, "Deployment", "keygate-verifier");

function portNumber(container: Container, name: string): number | undefined {
  return container.ports?.find((port) => port.name === name)?.containerPort;
}

function selects(selector: Manifest, deployment: Manifest): boolean {
  const wanted = (selector.spec as { selector?: { matchLabels?: Record<string, string> }; podSelector?: { matchLabels?: Record<string, string> } });
  const labels = (wanted.selector ?? wanted.podSelector)?.matchLabels ?? {};
  const pod = podLabels(deployment);
  return Object.keys(labels).length > 0 && Object.entries(labels).every(([key, value]) => pod[key] === value);
}

describe("the kustomize base", () => {
  it("lists every file it holds", () => {
    const files = readdirSync(join(REPOSITORY_ROOT, "deploy/base"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name !== "kustomization.yaml")
      .map((entry) => relative(join(REPOSITORY_ROOT, "deploy/base"), join(entry.parentPath, entry.name)));
    expect([...baseResources()].sort()).toEqual(files.sort());
  });

  it("creates its namespace under the restricted Pod Security Standard", () => {
    const labels = find(objects, "Namespace", NAMESPACE).metadata.labels ?? {};
    expect(labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted" });
  });

  it("puts every namespaced object in that namespace", () => {
    const clusterScoped = ["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"];
    const elsewhere = objects.filter((object) => !clusterScoped.includes(object.kind) && object.metadata.namespace !== NAMESPACE);
    expect(elsewhere.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
  });

  it("ships no webhook configuration and nothing that needs a CRD it does not ship", () => {
    const kinds = new Set(objects.map((object) => object.kind));
    expect([...kinds].filter((kind) => /WebhookConfiguration|ServiceMonitor/.test(kind))).toEqual([]);
  });
});

describe.each([
  ["operator", operator],
  ["verifier", verifier],
])("the %s Deployment", (component, deployment) => {
  const container = onlyContainer(deployment);
  const args = container.args ?? [];

  it("meets the restricted Pod Security Standard with a read-only root filesystem", () => {
    expect(restrictedViolations(podSpec(deployment))).toEqual([]);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("requests and limits CPU and memory", () => {
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(["cpu", "memory"]);
  });

  it("probes /healthz and /readyz on the port the verification API listens on", () => {
    expect(container.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(String(portNumber(container, "http"))).toBe(flag(args, "verifier-port"));
  });

  it("runs the command of its component as its own service account, knowing its namespace and name", () => {
    expect(args[0]).toBe(component);
    expect(podSpec(deployment).serviceAccountName).toBe(`keygate-${component}`);
    const env = Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.valueFrom]));
    expect(env.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: "metadata.namespace" } });
    expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
  });

  it("is kept available by a PodDisruptionBudget and reached through a Service", () => {
    const budget = find(objects, "PodDisruptionBudget", `keygate-${component}`);
    expect(selects(budget, deployment)).toBe(true);
    expect((budget.spec as { minAvailable: number }).minAvailable).toBe(1);
    const service = find(objects, "Service", `keygate-${component}`);
    const labels = (service.spec as { selector: Record<string, string> }).selector;
    expect(Object.entries(labels).every(([key, value]) => podLabels(deployment)[key] === value)).toBe(true);
  });

  it("admits traffic by a NetworkPolicy of its own", () => {
    const policy = find(objects, "NetworkPolicy", `keygate-${component}`);
    expect(selects(policy, deployment)).toBe(true);
    expect((policy.spec as { policyTypes: string[] }).policyTypes).toEqual(["Ingress"]);
  });
});

describe("the operator's high availability and webhook", () => {
  const container = onlyContainer(operator);
  const args = container.args ?? [];

  it("runs two replicas that elect a leader", () => {
    expect((operator.spec as { replicas: number }).replicas).toBe(2);
    expect(args).not.toContain("--no-leader-election");
  });

  it("registers its webhook against its own Service, whose port reaches the webhook port", () => {
    const service = find(objects, "Service", flag(args, "webhook-service") ?? "");
    const port = (service.spec as { ports: Array<{ name: string; port: number; targetPort: string }> }).ports.find((p) => p.name === "webhook");
    expect(String(port?.port)).toBe(flag(args, "webhook-service-port"));
    expect(port?.targetPort).toBe("webhook");
    expect(String(portNumber(container, "webhook"))).toBe(flag(args, "webhook-port"));
  });

  it("waits for a slow start before the liveness probe counts", () => {
    expect(container.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
  });

  it("serves its controllers' metrics on a port of their own, on every address, through its Service", () => {
    expect(flag(args, "metrics-host")).toBe("0.0.0.0");
    expect(String(portNumber(container, "metrics"))).toBe(flag(args, "metrics-port"));
    expect(portNumber(container, "metrics")).not.toBe(portNumber(container, "http"));
    const service = find(objects, "Service", "keygate-operator");
    const port = (service.spec as { ports: Array<{ name: string; port: number; targetPort: string }> }).ports.find((p) => p.name === "metrics");
    expect(String(port?.port)).toBe(flag(args, "metrics-port"));
    expect(port?.targetPort).toBe("metrics");
  });

  it("admits scrapers to both /metrics ports", () => {
    const rules = (find(objects, "NetworkPolicy", "keygate-operator").spec as { ingress: Array<{ ports: Array<{ port: string }>; from?: unknown[] }> }).ingress;
    const metrics = rules.find((rule) => rule.ports.some((port) => port.port === "metrics"));
    expect(metrics?.ports.map((port) => port.port).sort()).toEqual(["http", "metrics"]);
    expect(metrics?.from).toEqual([{ namespaceSelector: {} }]);
  });
});

describe("RBAC", () => {
  const role = (kind: string, name: string): string[] => grants(find(objects, kind, name));

  it("gives the operator cluster-wide only what lives in users' namespaces", () => {
    expect(role("ClusterRole", "keygate-operator")).toEqual(
      [
        `admissionregistration.k8s.io/validatingwebhookconfigurations create`,
        `admissionregistration.k8s.io/validatingwebhookconfigurations get ${WEBHOOK_CONFIGURATION_NAME}`,
        `admissionregistration.k8s.io/validatingwebhookconfigurations update ${WEBHOOK_CONFIGURATION_NAME}`,
        `admissionregistration.k8s.io/mutatingwebhookconfigurations create`,
        `admissionregistration.k8s.io/mutatingwebhookconfigurations get ${MUTATING_WEBHOOK_CONFIGURATION_NAME}`,
        `admissionregistration.k8s.io/mutatingwebhookconfigurations update ${MUTATING_WEBHOOK_CONFIGURATION_NAME}`,
        "authorization.k8s.io/subjectaccessreviews create",
        "core/namespaces get",
        ...["create", "delete", "get", "list", "watch"].map((verb) => `core/secrets ${verb}`),
        "events.k8s.io/events create",
        ...["accesskeys", "mfadevices"].flatMap((kind) => ["get", "list", "patch", "watch"].map((verb) => `iam.keygate.dev/${kind} ${verb}`)),
        ...["delete", "get", "list", "patch", "watch"].map((verb) => `iam.keygate.dev/temporarycredentials ${verb}`),
        ...["get", "list", "watch"].map((verb) => `iam.keygate.dev/accountpolicies ${verb}`),
        ...["create", "delete", "get", "list", "patch", "watch"].map((verb) => `iam.keygate.dev/recycledaccesskeys ${verb}`),
        ...["accesskeys", "mfadevices", "temporarycredentials", "accountpolicies", "recycledaccesskeys"].map((kind) => `iam.keygate.dev/${kind}/status patch`),
      ].sort(),
    );
  });

  it("confines the operator's other rights to its namespace", () => {
    expect(find(objects, "Role", "keygate-operator").metadata.namespace).toBe(NAMESPACE);
    expect(role("Role", "keygate-operator")).toEqual(
      [
        "coordination.k8s.io/leases create",
        `coordination.k8s.io/leases get ${LEASE_NAME}`,
        `coordination.k8s.io/leases update ${LEASE_NAME}`,
        ...["create", "delete", "get", "list", "update", "watch"].map((verb) => `core/secrets ${verb}`),
      ].sort(),
    );
  });

  it("gives the verifier no Secret outside its namespace", () => {
    expect(role("ClusterRole", "keygate-verifier")).toEqual(
      [
        "iam.keygate.dev/accesskeys list",
        "iam.keygate.dev/accesskeys watch",
        "iam.keygate.dev/accesskeys/status patch",
        "iam.keygate.dev/accountpolicies list",
        "iam.keygate.dev/accountpolicies watch",
        "iam.keygate.dev/mfadevices/status patch",
        "iam.keygate.dev/temporarycredentials list",
        "iam.keygate.dev/temporarycredentials watch",
      ].sort(),
    );
    expect(role("Role", "keygate-verifier")).toEqual(
      ["core/secrets create", `core/secrets get ${KEK_SECRET_NAME}`, "core/secrets list", "core/secrets update", "core/secrets watch"].sort(),
    );
  });

  it.each([
    ["ClusterRoleBinding", "keygate-operator"],
    ["RoleBinding", "keygate-operator"],
    ["ClusterRoleBinding", "keygate-verifier"],
    ["RoleBinding", "keygate-verifier"],
  ])("%s %s binds its role to its own service account only", (kind, name) => {
    const binding = find(objects, kind, name);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: kind.replace("Binding", ""), name });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name, namespace: NAMESPACE }]);
  });

  it("lets only a namespace's admins manage every user, change its AccountPolicy and purge its recycle bin", () => {
    const admin = find(objects, "ClusterRole", "keygate-admin");
    expect(admin.metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-admin": "true" });
    expect(admin.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-edit"]).toBeUndefined();
    expect(grants(admin)).toEqual(
      [
        "iam.keygate.dev/users manage",
        ...["create", "delete", "patch", "update"].map((verb) => `iam.keygate.dev/accountpolicies ${verb}`),
        ...["delete", "deletecollection"].map((verb) => `iam.keygate.dev/recycledaccesskeys ${verb}`),
      ].sort(),
    );
  });

  it("offers a role to manage a namespace's users and one for GitOps controllers, bound by no one", () => {
    expect(grants(find(objects, "ClusterRole", "keygate-user-manager"))).toEqual(["iam.keygate.dev/users manage"]);
    const gitops = grants(find(objects, "ClusterRole", "keygate-gitops"));
    expect(gitops).toContain("iam.keygate.dev/users manage");
    expect(gitops).toContain("iam.keygate.dev/operationprotection bypass");
    expect(gitops.filter((line) => /secrets|\*/.test(line))).toEqual([]);
    expect(objects.filter((object) => /Binding$/.test(object.kind ?? "") && /user-manager|gitops/.test(String((object as { roleRef?: { name?: string } }).roleRef?.name)))).toEqual([]);
  });

  it("aggregates read access into view, and writes into edit and admin, never Secrets", () => {
    const view = find(objects, "ClusterRole", "keygate-view");
    const edit = find(objects, "ClusterRole", "keygate-edit");
    expect(view.metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-view": "true" });
    expect(edit.metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-admin": "true" });
    const kinds = ["accesskeys", "mfadevices", "temporarycredentials", "accountpolicies", "recycledaccesskeys"];
    expect(grants(view)).toEqual(kinds.flatMap((kind) => ["get", "list", "watch"].map((verb) => `iam.keygate.dev/${kind} ${verb}`)).sort());
    // The account's settings and the purge are a namespace admin's; edit writes credentials only.
    expect(grants(edit).some((line) => /^iam\.keygate\.dev\/(accountpolicies|recycledaccesskeys|users) /.test(line))).toBe(false);
    const all = [...grants(view), ...grants(edit)];
    expect(all.filter((line) => /secrets|\*/.test(line) || !line.startsWith("iam.keygate.dev/"))).toEqual([]);
  });
});

describe("the admission policy on keygate's Secret writes", () => {
  const policy = find(objects, "ValidatingAdmissionPolicy", "keygate-secrets");
  const spec = policy.spec as {
    failurePolicy: string;
    matchConstraints: { resourceRules: Array<{ apiGroups: string[]; operations: string[]; resources: string[] }> };
    matchConditions: Array<{ expression: string }>;
    validations: Array<{ expression: string }>;
  };

  it("applies to every Secret create, update and delete of the operator and the verifier, and denies", () => {
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["secrets"] }]);
    const accounts = ["keygate-operator", "keygate-verifier"].map((name) => `system:serviceaccount:${NAMESPACE}:${name}`);
    expect(spec.matchConditions.map((condition) => condition.expression)).toEqual([`request.userInfo.username in ${JSON.stringify(accounts)}`]);
    expect(find(objects, "ValidatingAdmissionPolicyBinding", "keygate-secrets").spec).toEqual({ policyName: "keygate-secrets", validationActions: ["Deny"] });
  });

  it("asks for the label keygate puts on every Secret it writes", () => {
    for (const validation of spec.validations) {
      expect(validation.expression).toContain(`['${MANAGED_BY_LABEL}'] == '${MANAGED_BY}'`);
    }
    expect(spec.validations).toHaveLength(2);
  });
});

describe("the restricted Pod Security check", () => {
  it("notices what a default pod lacks", () => {
    expect(restrictedViolations({ containers: [{ name: "c" }], hostNetwork: true, volumes: [{ name: "h", hostPath: { path: "/" } }] })).toEqual([
      "host namespaces",
      "volume type",
      "c: allowPrivilegeEscalation must be false",
      "c: runAsNonRoot must be true",
      "c: capabilities must drop ALL",
      "c: seccompProfile must be RuntimeDefault or Localhost",
    ]);
  });
});

describe("the replay store every replica shares", () => {
  const redis = find(objects, "Deployment", "keygate-redis");
  const container = onlyContainer(redis);
  const url = `redis://keygate-redis.${NAMESPACE}.svc:6379`;

  it("is the bundled Redis, passed to every operator and verifier replica alike", () => {
    for (const deployment of [operator, verifier]) expect(flag(onlyContainer(deployment).args ?? [], "replay-store")).toBe(url);
    const service = find(objects, "Service", "keygate-redis");
    const labels = (service.spec as { selector: Record<string, string> }).selector;
    expect(Object.entries(labels).every(([key, value]) => podLabels(redis)[key] === value)).toBe(true);
    expect((service.spec as { ports: Array<{ port: number }> }).ports.map((port) => port.port)).toEqual([6379]);
  });

  it("runs one Redis at a time, keeping nothing on disk and evicting nothing", () => {
    expect(redis.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
    const args = (container.args ?? []).join("|");
    expect(args).toContain("--save||--appendonly no");
    expect(args).toContain("--maxmemory-policy|noeviction");
  });

  it("meets the restricted Pod Security Standard with a read-only root filesystem, and limits its resources", () => {
    expect(restrictedViolations(podSpec(redis))).toEqual([]);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(["cpu", "memory"]);
  });

  it("is reached only by keygate's operator and verifier pods", () => {
    const policy = find(objects, "NetworkPolicy", "keygate-redis");
    expect(selects(policy, redis)).toBe(true);
    const from = (policy.spec as { ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> }).ingress.flatMap((rule) => rule.from);
    expect(from.map((peer) => peer.podSelector.matchLabels["app.kubernetes.io/component"]).sort()).toEqual(["operator", "verifier"]);
  });
});
