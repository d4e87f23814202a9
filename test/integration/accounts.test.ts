import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { generateSync } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CommandFailedError, type RunResult } from "../../src/controlplane/exec.js";
import { getKey, manifest, readSecretData, waitForReason } from "../support/accesskeys.js";
import { controlPlane, kubectl, useNamespace } from "../support/cluster.js";
import { certificateIdentity, type Identity, serviceAccountIdentity } from "../support/identities.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { waitFor } from "../support/wait.js";

// "My credentials" with real identities: a ServiceAccount token, client certificates whose CN is
// an OIDC-style username, and the harness's unprivileged user, each sending requests the real
// API server authenticates and authorizes before the webhook decides who may act for whom.
const API_VERSION = "iam.keygate.dev/v1alpha1";
const CREATED_BY = "iam.keygate.dev/created-by";
const MFA_CODE = "iam.keygate.dev/mfa-code";
const STEP_MS = 30_000;

type Doc = Record<string, unknown>;

function doc(kind: string, name: string, spec: Doc, annotations?: Record<string, string>): Doc {
  return { apiVersion: API_VERSION, kind, metadata: { name, ...(annotations ? { annotations } : {}) }, spec };
}

/** What kubectl printed when it failed, or a failure of the test when it did not. */
async function refusal(pending: Promise<RunResult>): Promise<string> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof CommandFailedError) return error.output;
    throw error;
  }
  throw new Error("kubectl succeeded; a refusal was expected");
}

describe("who may act for which user, with real identities", () => {
  const ns = useNamespace("acct");
  let op: TestOperator;
  let alice: Identity;
  let carol: Identity;
  let dave: Identity;
  let gitops: Identity;
  let aliceSeed = "";
  let lastStep = 0;

  const rbac = (): k8s.RbacAuthorizationV1Api => ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api);

  async function grant(role: string, rules: k8s.V1PolicyRule[], subjects: k8s.RbacV1Subject[]): Promise<void> {
    await rbac().createNamespacedRole({ namespace: ns.name, body: { metadata: { name: role }, rules } });
    await rbac().createNamespacedRoleBinding({
      namespace: ns.name,
      body: { metadata: { name: role }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role }, subjects },
    });
  }

  function user(name: string): k8s.RbacV1Subject {
    return { kind: "User", apiGroup: "rbac.authorization.k8s.io", name };
  }

  async function applyAs(who: { kubeconfigPath: string }, docs: Doc[], extra: string[] = []): Promise<RunResult> {
    const file = join(await mkdtemp(join(tmpdir(), "acct-")), "manifest.yaml");
    await writeFile(file, docs.map((item) => stringify(item)).join("---\n"));
    return kubectl(["apply", "-n", ns.name, "-f", file, ...extra], who.kubeconfigPath);
  }

  function kubectlAs(who: { kubeconfigPath: string }, args: string[]): Promise<RunResult> {
    return kubectl([...args, "-n", ns.name], who.kubeconfigPath);
  }

  function serviceAccount(name: string): k8s.RbacV1Subject {
    return { kind: "ServiceAccount", name, namespace: ns.name };
  }

  const admin = { kubeconfigPath: controlPlane().kubeconfigPath };

  async function setPolicy(spec: Doc): Promise<void> {
    await applyAs(admin, [doc("AccountPolicy", "default", spec)]);
  }

  /** A code of alice's device for a step not used yet, waiting for the next step when both usable ones are spent. */
  async function nextCode(): Promise<string> {
    const current = Math.floor(Date.now() / STEP_MS);
    const step = Math.max(lastStep + 1, current);
    if (step > current + 1) await new Promise((resolve) => setTimeout(resolve, (step - 1) * STEP_MS - Date.now() + 100));
    lastStep = step;
    return generateSync({ secret: aliceSeed, epoch: step * 30 });
  }

  beforeAll(async () => {
    op = await startTestOperator({ stripUsernamePrefixes: ["oidc:"] });
    alice = await serviceAccountIdentity(ns.name, "alice");
    gitops = await serviceAccountIdentity(ns.name, "argocd-application-controller");
    carol = await certificateIdentity("oidc:carol");
    dave = await certificateIdentity("oidc:dave");
    const credentials = ["accesskeys", "mfadevices", "temporarycredentials"];
    await grant(
      "credentials",
      [{ apiGroups: ["iam.keygate.dev"], resources: credentials, verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }],
      [serviceAccount("alice"), serviceAccount("argocd-application-controller"), user("oidc:carol"), user("oidc:dave")],
    );
    await grant("manage-bob", [{ apiGroups: ["iam.keygate.dev"], resources: ["users"], resourceNames: ["bob"], verbs: ["manage"] }], [user("oidc:dave")]);
    await grant(
      "gitops",
      [
        { apiGroups: ["iam.keygate.dev"], resources: ["users"], verbs: ["manage"] },
        { apiGroups: ["iam.keygate.dev"], resources: ["operationprotection"], verbs: ["bypass"] },
      ],
      [serviceAccount("argocd-application-controller")],
    );
  });

  afterAll(async () => {
    await op?.operator.stop();
  });

  it("lets a ServiceAccount act for the user of its name, and records who created the key", async () => {
    await applyAs(alice, [manifest("alice-key", { user: "alice" })]);
    const issued = await waitForReason(ns, "alice-key", "Issued");
    expect(issued.metadata.annotations?.[CREATED_BY]).toBe(`system:serviceaccount:${ns.name}:alice`);
  });

  it("refuses another user's credentials, of every kind, saying who may", async () => {
    const key = await refusal(applyAs(alice, [manifest("for-bob", { user: "bob" })]));
    expect(key).toContain(`system:serviceaccount:${ns.name}:alice may not create an access key for user bob in namespace ${ns.name}`);
    expect(key).toContain("only user bob themself");
    expect(key).toContain("the verb manage on users/bob in iam.keygate.dev");
    const device = await refusal(applyAs(alice, [doc("MfaDevice", "bob-phone", { user: "bob", type: "Virtual", deviceName: "phone" })]));
    expect(device).toContain("may not add an MFA device for user bob");
    const session = await refusal(applyAs(alice, [doc("TemporaryCredential", "bob-session", { user: "bob" })]));
    expect(session).toContain("may not get temporary credentials for user bob");
    expect(await getKey(ns, "for-bob")).toBeUndefined();
  });

  it("reads a client certificate's OIDC-style name as its user once the configured prefix is removed", async () => {
    await applyAs(carol, [manifest("carol-key", { user: "carol" })]);
    const issued = await waitForReason(ns, "carol-key", "Issued");
    expect(issued.metadata.annotations?.[CREATED_BY]).toBe("oidc:carol");
    expect(await refusal(applyAs(carol, [manifest("carol-for-alice", { user: "alice" })]))).toContain("oidc:carol may not create an access key for user alice");
  });

  it("lets the harness's unprivileged user act for itself once RBAC lets it write keys at all, and for nobody else", async () => {
    const unprivileged = { kubeconfigPath: controlPlane().unprivilegedKubeconfigPath };
    expect(await refusal(applyAs(unprivileged, [manifest("u-key", { user: "keygate-unprivileged" })]))).toMatch(/forbidden/i);
    await grant(
      "unprivileged-keys",
      [{ apiGroups: ["iam.keygate.dev"], resources: ["accesskeys"], verbs: ["get", "list", "create", "patch"] }],
      [user("keygate-unprivileged")],
    );
    await applyAs(unprivileged, [manifest("u-key", { user: "keygate-unprivileged" })]);
    expect((await waitForReason(ns, "u-key", "Issued")).metadata.annotations?.[CREATED_BY]).toBe("keygate-unprivileged");
    expect(await refusal(applyAs(unprivileged, [manifest("u-for-alice", { user: "alice" })]))).toContain("keygate-unprivileged may not create an access key for user alice");
  });

  it("lets whoever is granted manage on users/bob act for bob, and only bob", async () => {
    await applyAs(dave, [manifest("bob-key", { user: "bob" })]);
    expect((await waitForReason(ns, "bob-key", "Issued")).metadata.annotations?.[CREATED_BY]).toBe("oidc:dave");
    expect(await refusal(applyAs(dave, [manifest("dave-for-alice", { user: "alice" })]))).toContain("oidc:dave may not create an access key for user alice");
    expect(await refusal(kubectlAs(dave, ["patch", "accesskey", "alice-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}']))).toContain(
      "may not disable an access key for user alice",
    );
  });

  it("keeps created-by unforgeable: a value sent on create is replaced, a change later is undone", async () => {
    await applyAs(carol, [doc("AccessKey", "carol-key-2", { user: "carol" }, { [CREATED_BY]: "keygate-admin" })]);
    expect((await getKey(ns, "carol-key-2"))?.metadata.annotations?.[CREATED_BY]).toBe("oidc:carol");
    await kubectlAs(carol, ["annotate", "--overwrite", "accesskey", "carol-key-2", `${CREATED_BY}=someone-else`]);
    expect((await getKey(ns, "carol-key-2"))?.metadata.annotations?.[CREATED_BY]).toBe("oidc:carol");
  });

  it("under access key protection (AdminsOnly), only managers create, disable or delete keys", async () => {
    await setPolicy({ keyManagement: "AdminsOnly" });
    const own = await waitFor("AdminsOnly to reach the webhook", async () => {
      const output = await refusal(applyAs(carol, [manifest("carol-key-3", { user: "carol" })], ["--dry-run=server"])).catch(() => undefined);
      return output?.includes("access key protection is on") ? output : undefined;
    });
    expect(own).toContain("only whoever is granted the verb manage on users/carol");
    expect(await refusal(kubectlAs(carol, ["patch", "accesskey", "carol-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}']))).toContain(
      "may not disable an access key even for their own user carol",
    );
    await kubectlAs(dave, ["patch", "accesskey", "bob-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}']);
    await kubectlAs(dave, ["delete", "accesskey", "bob-key"]);
    await waitFor("bob-key to be deleted", async () => ((await getKey(ns, "bob-key")) === undefined ? true : undefined));
    await setPolicy({ keyManagement: "SelfService" });
  });

  it("binds an MFA device for alice, as alice", async () => {
    await applyAs(alice, [doc("MfaDevice", "alice-phone", { user: "alice", type: "Virtual", deviceName: "phone" })]);
    const data = await waitFor("alice's seed", () => readSecretData(ns, "alice-phone-credentials"));
    aliceSeed = data.seed ?? "";
    // Codes of the two steps before now bind it, so the current and next steps stay free for the tests below.
    const current = Math.floor(Date.now() / STEP_MS);
    const verification = { code1: generateSync({ secret: aliceSeed, epoch: (current - 2) * 30 }), code2: generateSync({ secret: aliceSeed, epoch: (current - 1) * 30 }) };
    lastStep = current - 1;
    await kubectlAs(alice, ["patch", "mfadevice", "alice-phone", "--type=merge", "-p", JSON.stringify({ spec: { verification } })]);
    await waitFor("alice's device to be bound", async () => {
      const found = (await ns.custom.getNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace: ns.name, plural: "mfadevices", name: "alice-phone" })) as {
        status?: { bound?: boolean };
      };
      return found.status?.bound === true ? true : undefined;
    });
  });

  it("under operation protection, needs a fresh code of the acting user, checks it once and never stores it", async () => {
    await setPolicy({ operationProtection: true });
    const missing = await waitFor("operation protection to reach the webhook", async () => {
      const output = await refusal(applyAs(alice, [manifest("alice-key-2", { user: "alice" })])).catch(() => undefined);
      return output?.includes("operation protection is on") ? output : undefined;
    });
    expect(missing).toContain(`add the annotation ${MFA_CODE}=<code>`);
    const wrong = await refusal(applyAs(alice, [doc("AccessKey", "alice-key-2", { user: "alice" }, { [MFA_CODE]: "000000" })]));
    expect(wrong).toContain("the MFA code of user alice was refused (InvalidCode)");

    const created = await nextCode();
    await applyAs(alice, [doc("AccessKey", "alice-key-2", { user: "alice" }, { [MFA_CODE]: created })]);
    const stored = await waitForReason(ns, "alice-key-2", "Issued");
    // managedFields keeps the annotation's name (kubectl sent it), never its value.
    expect(Object.keys(stored.metadata.annotations ?? {})).not.toContain(MFA_CODE);
    expect(JSON.stringify(stored)).not.toContain(created);

    const code = await nextCode();
    const disable = JSON.stringify({ metadata: { annotations: { [MFA_CODE]: code } }, spec: { state: "Inactive" } });
    await kubectlAs(alice, ["patch", "accesskey", "alice-key-2", "--type=merge", "-p", disable, "--dry-run=server"]);
    expect((await getKey(ns, "alice-key-2"))?.spec.state).toBe("Active");
    await kubectlAs(alice, ["patch", "accesskey", "alice-key-2", "--type=merge", "-p", disable]);
    expect((await getKey(ns, "alice-key-2"))?.spec.state).toBe("Inactive");
    const enable = JSON.stringify({ metadata: { annotations: { [MFA_CODE]: code } }, spec: { state: "Active" } });
    expect(await refusal(kubectlAs(alice, ["patch", "accesskey", "alice-key-2", "--type=merge", "-p", enable]))).toContain("(CodeReused)");

    const carolDisables = ["patch", "accesskey", "carol-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}'];
    expect(await refusal(kubectlAs(carol, carolDisables))).toContain("disabling an access key needs a fresh code of an MFA device of user carol");
    await applyAs(gitops, [manifest("bob-key-2", { user: "bob" })]);
    expect((await waitForReason(ns, "bob-key-2", "Issued")).metadata.annotations?.[CREATED_BY]).toBe(`system:serviceaccount:${ns.name}:argocd-application-controller`);
  });

  it("under operation protection, adding an MFA device and answering its ceremony need a fresh code; a person with no device has none to give", async () => {
    await setPolicy({ operationProtection: true });
    const key = (name: string, user: string, annotations?: Record<string, string>) => doc("MfaDevice", name, { user, type: "SecurityKey", deviceName: name }, annotations);
    const missing = await waitFor("operation protection to reach the webhook", async () => {
      const output = await refusal(applyAs(alice, [key("alice-key", "alice")])).catch(() => undefined);
      return output?.includes("operation protection is on") ? output : undefined;
    });
    expect(missing).toContain(`adding a security key needs a fresh code of an MFA device of user alice: add the annotation ${MFA_CODE}=<code>`);
    const firstDevice = await refusal(applyAs(carol, [doc("MfaDevice", "carol-phone", { user: "carol", type: "Virtual", deviceName: "phone" }, { [MFA_CODE]: "123456" })]));
    expect(firstDevice).toContain("the MFA code of user carol was refused (MfaDeviceNotFound)");

    const created = await nextCode();
    await applyAs(alice, [key("alice-key", "alice", { [MFA_CODE]: created })]);
    const stored = (await ns.custom.getNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace: ns.name, plural: "mfadevices", name: "alice-key" })) as {
      metadata: { annotations?: Record<string, string> };
    };
    expect(Object.keys(stored.metadata.annotations ?? {})).not.toContain(MFA_CODE);
    expect(JSON.stringify(stored)).not.toContain(created);

    const registration = { id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "eyJ9", attestationObject: "o2Nm" } };
    const answer = (annotations: Record<string, string>) => JSON.stringify({ metadata: { annotations }, spec: { registration } });
    const unprotected = await refusal(kubectlAs(alice, ["patch", "mfadevice", "alice-key", "--type=merge", "-p", answer({})]));
    expect(unprotected).toContain("registering a security key needs a fresh code of an MFA device of user alice");
    await kubectlAs(alice, ["patch", "mfadevice", "alice-key", "--type=merge", "-p", answer({ [MFA_CODE]: "123456" }), "--dry-run=server"]);

    await applyAs(gitops, [key("bob-key", "bob")]);
    await kubectlAs(admin, ["delete", "mfadevice", "alice-key", "bob-key"]);
  });

  it("with requireMfa, refuses a session without a code to a user with a bound device, and only to such a user", async () => {
    await setPolicy({ requireMfa: true });
    const refused = await waitFor("requireMfa to reach the webhook", async () => {
      const output = await refusal(applyAs(alice, [doc("TemporaryCredential", "alice-session", { user: "alice" })], ["--dry-run=server"])).catch(() => undefined);
      return output?.includes("requires MFA") ? output : undefined;
    });
    expect(refused).toContain("user alice has phone: set spec.mfa {deviceName, code}");
    await applyAs(alice, [doc("TemporaryCredential", "alice-session", { user: "alice", mfa: { deviceName: "phone", code: "123456" } })], ["--dry-run=server"]);
    await applyAs(carol, [doc("TemporaryCredential", "carol-session", { user: "carol" })], ["--dry-run=server"]);
  });

  it("warns when deleting a key used in the last 7 days", async () => {
    await setPolicy({});
    const disable = ["patch", "accesskey", "carol-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}'];
    await waitFor("the default policy to reach the webhook", async () => ((await kubectlAs(carol, [...disable, "--dry-run=server"]).catch(() => undefined)) ? true : undefined));
    await kubectlAs(carol, disable);
    const lastUsed = { time: new Date(Date.now() - 2 * 3_600_000).toISOString(), service: "s3", region: "us-east-1", sourceIP: "10.0.0.7" };
    await kubectl(["patch", "accesskey", "carol-key", "-n", ns.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { lastUsed } })]);
    const id = (await getKey(ns, "carol-key"))?.status?.accessKeyId ?? "";
    const { stderr } = await kubectlAs(carol, ["delete", "accesskey", "carol-key"]);
    expect(stderr).toMatch(/Warning: AccessKey carol-key \(KGAK[A-Z2-7]{16}\) was used 2 hours ago \(service s3, region us-east-1, from 10\.0\.0\.7\)/);
    // Who deleted it is what the webhook saw, shown in the recycle bin.
    const binned = await waitFor("the key in the recycle bin", async () => {
      const { stdout } = await kubectl(["get", "recycledaccesskey", id.toLowerCase(), "-n", ns.name, "-o", "json"]).catch(() => ({ stdout: "" }));
      return stdout ? (JSON.parse(stdout) as { spec: { deletedBy: string } }) : undefined;
    });
    expect(binned.spec.deletedBy).toBe("oidc:carol");
  });

  it("records who deleted a key, unforgeably: a deleted-by sent by a user is dropped", async () => {
    await kubectlAs(carol, ["annotate", "--overwrite", "accesskey", "carol-key-2", "iam.keygate.dev/deleted-by=keygate-admin"]);
    expect((await getKey(ns, "carol-key-2"))?.metadata.annotations?.["iam.keygate.dev/deleted-by"]).toBeUndefined();
  });
});
