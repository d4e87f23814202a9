import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CHART_DIR, RELEASE_NAME } from "../../scripts/render-deploy.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm } from "../../src/controlplane/helm.js";
import { freePort } from "../../src/controlplane/ports.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { KEK_SECRET_NAME } from "../../src/keystore/kek.js";
import { LEASE_NAME } from "../../src/operator/operator.js";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { WEBHOOK_TLS_SECRET } from "../../src/webhook/certificate.js";
import { WEBHOOK_CONFIGURATION_NAME } from "../../src/webhook/registration.js";
import { apply, eventReasons, getKey, manifest, readSecretData, setState, waitForReason } from "../support/accesskeys.js";
import { controlPlane, kubeConfig, kubectl, type TestNamespace, useNamespace } from "../support/cluster.js";
import { postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";
import { type Container, dockerEntrypoint, find, flag, type Manifest, onlyContainer, parseManifests, readText, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

// keygate as the chart installs it: the chart's objects applied for real (its Deployments never
// run: this cluster has no nodes), and the image's entrypoint run as local processes with the
// rendered Deployments' arguments, each authenticated as its component's ServiceAccount with a
// token from the TokenRequest API, so exactly the chart's RBAC applies.
const RELEASE_NAMESPACE = `keygate-rbac-${randomBytes(3).toString("hex")}`;
const POD_NAME = { operator: "keygate-operator-5d8f7-abcde", verifier: "keygate-verifier-6c9e8-fghij" };

interface Identity {
  kubeconfig: string;
  core: k8s.CoreV1Api;
}

interface Component {
  child: ChildProcess;
  url: string;
  output(): string;
}

let work: string;
let rendered: Manifest[];
let renderedFile: string;
let command: string[];
const identities: Partial<Record<"operator" | "verifier", Identity>> = {};
const running: Component[] = [];

function identity(name: "operator" | "verifier"): Identity {
  const found = identities[name];
  if (!found) throw new Error(`no ${name} identity`);
  return found;
}

/** The image's ENTRYPOINT, with dist/ compiled here instead of /app/dist and no tini (Node handles SIGTERM itself). */
function entrypoint(dist: string): string[] {
  const [init, separator, node, main] = dockerEntrypoint(readText("Dockerfile"));
  expect([init, separator, node]).toEqual(["/usr/bin/tini", "--", "node"]);
  expect(main).toMatch(/^\/app\/dist\//);
  return [process.execPath, (main ?? "").replace(/^\/app\/dist/, dist)];
}

async function compile(): Promise<string> {
  const dist = join(REPOSITORY_ROOT, ".keygate", `image-${process.pid}`, "dist");
  const tsc = join(REPOSITORY_ROOT, "node_modules", "typescript", "bin", "tsc");
  // The Dockerfile's `tsc -p tsconfig.build.json`; type-checking is npm test's job, not this one's.
  await run(process.execPath, [tsc, "-p", join(REPOSITORY_ROOT, "tsconfig.build.json"), "--outDir", dist, "--noCheck"], { timeoutMs: 180_000 });
  return dist;
}

async function installChart(): Promise<void> {
  const helm = await ensureHelm({ progress: (message) => process.stderr.write(`[helm] ${message}\n`) });
  const { stdout } = await run(helm.path, [
    "template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE,
    "--set", "namespace.create=true", "--kube-version", KUBERNETES_VERSION,
  ]);
  rendered = parseManifests(stdout);
  renderedFile = join(work, "chart.yaml");
  await writeFile(renderedFile, stdout);
  await kubectl(["apply", "--server-side", "-f", renderedFile]);
}

/** A kubeconfig holding a fresh token of the ServiceAccount: the pod's credentials, outside a pod. */
async function tokenIdentity(serviceAccount: string): Promise<Identity> {
  const admin = kubeConfig();
  const request = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: RELEASE_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  const kubeconfig = join(work, `${serviceAccount}.kubeconfig`);
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "test", cluster: { server: cluster?.server, "certificate-authority-data": cluster?.caData } }],
      users: [{ name: serviceAccount, user: { token: request.status?.token } }],
      contexts: [{ name: serviceAccount, context: { cluster: "test", user: serviceAccount, namespace: RELEASE_NAMESPACE } }],
      "current-context": serviceAccount,
    }),
    { mode: 0o600 },
  );
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kubeconfig, core: kc.makeApiClient(k8s.CoreV1Api) };
}

/** The Deployment's arguments, with `changes` applied (undefined drops a flag; each must be there). */
function localArgs(args: readonly string[], changes: Record<string, string | undefined>, extra: readonly string[]): string[] {
  for (const name of Object.keys(changes)) expect(flag(args, name), `the Deployment passes --${name}`).toBeDefined();
  const kept = args.filter((arg) => !Object.keys(changes).some((name) => arg.startsWith(`--${name}=`)));
  const changed = Object.entries(changes).flatMap(([name, value]) => (value === undefined ? [] : [`--${name}=${value}`]));
  return [...kept, ...changed, ...extra];
}

/** The container's environment as the kubelet would set it for a pod of that name. */
function podEnv(container: Container, podName: string): Record<string, string> {
  const fields: Record<string, string> = { "metadata.namespace": RELEASE_NAMESPACE, "metadata.name": podName };
  return Object.fromEntries(
    (container.env ?? []).map((entry) => {
      const path = (entry.valueFrom as { fieldRef?: { fieldPath: string } } | undefined)?.fieldRef?.fieldPath;
      const value = path === undefined ? entry.value : fields[path];
      if (value === undefined) throw new Error(`cannot emulate env ${entry.name}`);
      return [entry.name, value];
    }),
  );
}

function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

async function waitReady(component: Component): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await isReady(component.url))) {
    if (component.child.exitCode !== null || Date.now() > deadline) throw new Error(`not ready; its output:\n${component.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startComponent(name: "operator" | "verifier", changes: Record<string, string | undefined>, extra: string[]): Promise<Component> {
  const container = onlyContainer(find(rendered, "Deployment", `keygate-${name}`));
  const port = await freePort();
  const args = localArgs(container.args ?? [], { ...changes, "verifier-port": String(port) }, [
    "--verifier-host=127.0.0.1",
    `--kubeconfig=${identity(name).kubeconfig}`,
    ...extra,
  ]);
  const [node, main] = command;
  const child = spawn(node ?? "", [main ?? "", ...args], { env: { ...process.env, ...podEnv(container, POD_NAME[name]) }, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const component = { child, url: `http://127.0.0.1:${port}`, output: () => output };
  running.push(component);
  await waitReady(component);
  return component;
}

/** Rejections carry what the running components logged, the first thing to read when RBAC denies something. */
async function explained<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    const logs = running.map((component) => component.output().split("\n").slice(-40).join("\n")).join("\n---\n");
    throw new Error(`${String(error)}\nkeygate logged:\n${logs}`, { cause: error });
  }
}

async function stop(component: Component): Promise<void> {
  component.child.kill("SIGTERM");
  expect(await exited(component.child), component.output()).toBe(0);
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error.code;
    throw error;
  }
}

/** The API server's refusal message; fails when the call succeeds. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 403) return (JSON.parse(String(error.body)) as { message: string }).message;
    throw error;
  }
  throw new Error("the call succeeded");
}

async function accessAllowed(user: string, namespace: string, resource: string, verb: string): Promise<boolean> {
  const review = await kubeConfig()
    .makeApiClient(k8s.AuthorizationV1Api)
    .createSubjectAccessReview({
      body: { spec: { user, resourceAttributes: { namespace, group: resource === "secrets" ? "" : "iam.keygate.dev", resource, verb } } },
    });
  return review.status?.allowed === true;
}

function cleanupBlock(): string {
  const docs = readText("docs/install.md");
  const block = /<!-- cleanup: operator gone[^>]*-->\n```sh\n([\s\S]*?)```/.exec(docs)?.[1];
  if (!block) throw new Error("docs/install.md has no marked cleanup block");
  return block;
}

describe("keygate running as the chart's ServiceAccounts", () => {
  const ns = useNamespace("pkg-rbac");
  let operator: Component;
  let verifier: Component;
  let issued: { id: string; secret: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "keygate-rbac-"));
    const [dist] = await Promise.all([compile(), installChart()]);
    command = entrypoint(dist);
    identities.operator = await tokenIdentity("keygate-operator");
    identities.verifier = await tokenIdentity("keygate-verifier");
  }, 600_000);

  afterAll(async () => {
    for (const component of running) component.child.kill("SIGKILL");
    await kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
    if (renderedFile) await kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", renderedFile]);
    await rm(join(REPOSITORY_ROOT, ".keygate", `image-${process.pid}`), { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it("starts the operator with the Deployment's arguments; it elects itself and serves", async () => {
    // In a pod the webhook sits behind the operator Service; here the API server dials it on loopback.
    operator = await startComponent(
      "operator",
      { "webhook-service": undefined, "webhook-service-port": undefined, "webhook-port": "0", "metrics-host": "127.0.0.1", "metrics-port": "0" },
      ["--webhook-host=127.0.0.1", "--webhook-public-host=127.0.0.1"],
    );
    const lease = await waitFor("the operator to hold the Lease", async () => {
      const found = await kubeConfig().makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: RELEASE_NAMESPACE, name: LEASE_NAME });
      return found.spec?.holderIdentity ? found : undefined;
    });
    expect(lease.spec?.holderIdentity).toBe(POD_NAME.operator);
  });

  it("issues an AccessKey into its Secret and records an Event", async () => {
    await apply(ns, [manifest("rbac-key", { user: "rbac-user" })]);
    const key = await explained(waitForReason(ns, "rbac-key", "Issued", 30_000));
    const data = await readSecretData(ns, "rbac-key-credentials");
    expect(data?.accessKeyId).toBe(key.status?.accessKeyId);
    issued = { id: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    expect(await waitFor("the Issued event", async () => ((await eventReasons(ns, "rbac-key")).includes("Issued") ? true : undefined))).toBe(true);
  });

  it("issues a TemporaryCredential and an MfaDevice's seed under the same rights", async () => {
    const kind = (name: string, k: string, spec: Record<string, unknown>): Record<string, unknown> => ({ ...manifest(name, spec), kind: k });
    await apply(ns, [kind("rbac-session", "TemporaryCredential", { user: "rbac-user", durationSeconds: 900 }), kind("rbac-phone", "MfaDevice", { user: "rbac-user", type: "Virtual", deviceName: "phone" })]);
    const reason = async (plural: string, name: string): Promise<string | undefined> => {
      const found = (await ns.custom.getNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace: ns.name, plural, name })) as {
        status?: { conditions?: Array<{ type: string; reason: string }> };
      };
      return found.status?.conditions?.find((condition) => condition.type === "Ready")?.reason;
    };
    await explained(waitFor("the session to be issued", async () => ((await reason("temporarycredentials", "rbac-session")) === "Issued" ? true : undefined)));
    await explained(waitFor("the device to await its codes", async () => ((await reason("mfadevices", "rbac-phone")) === "Pending" ? true : undefined)));
    expect(Object.keys((await readSecretData(ns, "rbac-session-credentials")) ?? {})).toContain("AWS_SESSION_TOKEN");
    expect(Object.keys((await readSecretData(ns, "rbac-phone-credentials")) ?? {})).toContain("seed");
  });

  it("starts the verifier, which verifies a request signed with that key and records its last use", async () => {
    verifier = await startComponent("verifier", {}, []);
    const request: HttpRequestDescription = { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", "api.example.test"]] };
    const signed = signSigV4(request, { accessKeyId: issued.id, secret: issued.secret, region: "eu-central-1", service: "things" }, new Date());
    const answer = await postVerify(verifier.url, verifyBody(signed));
    expect(answer.json).toMatchObject({ allowed: true, principal: { namespace: ns.name, user: "rbac-user", accessKeyId: issued.id } });
    await waitFor("lastUsed to be written", async () => ((await getKey(ns, "rbac-key"))?.status?.lastUsed?.service === "things" ? true : undefined));
  });

  it("deactivates and deletes the key through the webhook and the finalizer", async () => {
    await setState(ns, "rbac-key", "Inactive");
    await waitFor("the key to be deactivated", async () => ((await getKey(ns, "rbac-key"))?.status?.state === "Inactive" ? true : undefined));
    await kubectl(["delete", "accesskey", "rbac-key", "-n", ns.name, "--timeout=30s"]);
    expect(await getKey(ns, "rbac-key")).toBeUndefined();
  });

  it("lets the operator write no Secret but keygate's, nor touch another Lease or webhook configuration", async () => {
    const { core } = identity("operator");
    const account = `system:serviceaccount:${RELEASE_NAMESPACE}:keygate-operator`;
    const unrelated = { metadata: { name: "unrelated", namespace: ns.name }, stringData: { password: "hunter2" } };
    await ns.core.createNamespacedSecret({ namespace: ns.name, body: unrelated });
    await ns.core.createNamespacedSecret({ namespace: RELEASE_NAMESPACE, body: { ...unrelated, metadata: { name: "bystander", namespace: RELEASE_NAMESPACE } } });
    // RBAC grants create and delete on every Secret (an expired session's Secret is deleted)...
    expect(await accessAllowed(account, ns.name, "secrets", "delete")).toBe(true);
    // ...the admission policy refuses both on Secrets keygate did not write.
    const policy = /managed-by=keygate/;
    expect(await refusal(core.deleteNamespacedSecret({ namespace: ns.name, name: "unrelated" }))).toMatch(policy);
    expect(await refusal(core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name: "planted" }, stringData: { a: "b" } } }))).toMatch(policy);
    expect(await refusal(core.replaceNamespacedSecret({ namespace: RELEASE_NAMESPACE, name: "bystander", body: { ...unrelated, metadata: { name: "bystander" } } }))).toMatch(policy);
    expect(await refusal(core.deleteNamespacedSecret({ namespace: RELEASE_NAMESPACE, name: "bystander" }))).toMatch(policy);
    // RBAC alone refuses the rest.
    const rbac = new RegExp(`is forbidden: User "${account}" cannot`);
    expect(await refusal(core.replaceNamespacedSecret({ namespace: ns.name, name: "unrelated", body: unrelated }))).toMatch(rbac);
    expect(await refusal(core.listNamespacedConfigMap({ namespace: ns.name }))).toMatch(rbac);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(identity("operator").kubeconfig);
    expect(await refusal(kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: "kube-system", name: "kube-controller-manager" }))).toMatch(rbac);
    expect(await refusal(kc.makeApiClient(k8s.AdmissionregistrationV1Api).readValidatingWebhookConfiguration({ name: "someone-elses" }))).toMatch(rbac);
    expect((await readSecretData(ns, "unrelated"))?.password).toBe("hunter2");
  });

  it("still lets the operator read any Secret: RBAC cannot confine list and watch to a label (docs/install.md)", async () => {
    const { core } = identity("operator");
    expect(await status(core.readNamespacedSecret({ namespace: ns.name, name: "unrelated" }))).toBe(200);
  });

  it("lets the verifier read no Secret outside keygate's namespace, nor one there but the KEK by name, nor change another's", async () => {
    const { core } = identity("verifier");
    expect(await status(core.readNamespacedSecret({ namespace: ns.name, name: "unrelated" }))).toBe(403);
    expect(await status(core.listNamespacedSecret({ namespace: ns.name }))).toBe(403);
    expect(await status(core.readNamespacedSecret({ namespace: RELEASE_NAMESPACE, name: WEBHOOK_TLS_SECRET }))).toBe(403);
    expect(await status(core.readNamespacedSecret({ namespace: RELEASE_NAMESPACE, name: KEK_SECRET_NAME }))).toBe(200);
    // It may update Secrets of keygate's namespace (MFA records), but only keygate's.
    const body = { metadata: { name: "bystander" }, stringData: { password: "changed" } };
    expect(await refusal(core.replaceNamespacedSecret({ namespace: RELEASE_NAMESPACE, name: "bystander", body }))).toMatch(/managed-by=keygate/);
  });

  it("lets the verifier show a cloned security key on an MfaDevice's status, and change nothing else of it", async () => {
    const verifierAccount = `system:serviceaccount:${RELEASE_NAMESPACE}:keygate-verifier`;
    expect(await accessAllowed(verifierAccount, ns.name, "mfadevices/status", "patch")).toBe(true);
    expect(await accessAllowed(verifierAccount, ns.name, "mfadevices", "patch")).toBe(false);
    expect(await accessAllowed(verifierAccount, ns.name, "mfadevices", "get")).toBe(false);
  });

  it("lets view read keygate's kinds, edit write them, and neither read Secrets through them", async () => {
    const bind = (user: string, role: string): Promise<unknown> =>
      ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api).createNamespacedRoleBinding({
        namespace: ns.name,
        body: { metadata: { name: `${user}-${role}` }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }] },
      });
    await bind("pkg-viewer", "view");
    await bind("pkg-editor", "edit");
    // The aggregation controller fills view and edit from the chart's labelled ClusterRoles.
    await waitFor("aggregation into view and edit", async () =>
      (await accessAllowed("pkg-viewer", ns.name, "mfadevices", "list")) && (await accessAllowed("pkg-editor", ns.name, "accesskeys", "create")) ? true : undefined,
    );
    expect(await accessAllowed("pkg-viewer", ns.name, "temporarycredentials", "get")).toBe(true);
    expect(await accessAllowed("pkg-viewer", ns.name, "accesskeys", "create")).toBe(false);
    expect(await accessAllowed("pkg-viewer", ns.name, "secrets", "get")).toBe(false);
    expect(await accessAllowed("pkg-editor", ns.name, "accesskeys", "delete")).toBe(true);
    expect(await accessAllowed("pkg-editor", ns.name, "accesskeys/status", "patch")).toBe(false);
  });

  it("stops on SIGTERM; with the operator gone first, the documented cleanup releases what is stuck", async () => {
    const stranded: TestNamespace = { ...ns, name: `pkg-stranded-${randomBytes(3).toString("hex")}` };
    await ns.core.createNamespace({ body: { metadata: { name: stranded.name } } });
    await apply(ns, [manifest("orphan", { user: "orphan-user" })]);
    await apply(stranded, [manifest("stuck", { user: "stuck-user" })]);
    await waitForReason(ns, "orphan", "Issued", 60_000);
    await waitForReason(stranded, "stuck", "Issued", 60_000);
    await stop(verifier);
    await stop(operator);

    // The webhook has no one to answer it, and no one releases the finalizer of a deleted key.
    await expect(kubectl(["delete", "accesskey", "orphan", "-n", ns.name])).rejects.toThrow(/failed calling webhook/);
    await ns.core.deleteNamespace({ name: stranded.name });
    await waitFor("the namespace controller to delete the key", async () => ((await getKey(stranded, "stuck"))?.metadata.deletionTimestamp ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await getKey(stranded, "stuck"))?.metadata.finalizers).toEqual(["iam.keygate.dev/recycle"]);

    const bin = controlPlane().binDir;
    await mkdir(work, { recursive: true });
    await run("sh", ["-e", "-c", cleanupBlock()], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, KUBECONFIG: controlPlane().kubeconfigPath }, timeoutMs: 60_000 });
    await waitFor("the stuck key to be gone", async () => ((await getKey(stranded, "stuck")) === undefined ? true : undefined));
    await kubectl(["delete", "accesskey", "orphan", "-n", ns.name, "--timeout=30s"]);
    expect(await getKey(ns, "orphan")).toBeUndefined();
  });
});
