import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORD_OWNER_LABEL, recordName } from "../../src/keystore/record.js";
import {
  apply,
  eventReasons,
  getKey,
  GROUP,
  manifest,
  PLURAL,
  readSecretData,
  setState,
  VERSION,
  waitForReason,
} from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { waitFor } from "../support/wait.js";

const DAY = 24 * 60 * 60 * 1000;

describe("AccessKey against the real API server and admission webhook", () => {
  const ns = useNamespace("ak");
  let op: TestOperator;
  const issuedSecrets: string[] = [];

  beforeAll(async () => {
    op = await startTestOperator({ retentionMs: 30 * DAY });
  });

  afterAll(async () => {
    // Invariant 1: no secret the operator issued appears anywhere in its logs.
    const logs = op.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of issuedSecrets) expect(logs).not.toContain(secret);
    await op.operator.stop();
  });

  async function issued(name: string): Promise<Record<string, string>> {
    await waitForReason(ns, name, "Issued");
    const key = await getKey(ns, name);
    const data = await readSecretData(ns, key?.status?.secretRef?.name ?? "");
    if (!data) throw new Error(`no Secret for ${name}`);
    issuedSecrets.push(data.secretAccessKey ?? "");
    return data;
  }

  it("issues a key into a Secret with every format, once", async () => {
    await apply(ns, [manifest("alpha", { user: "alice", description: "ci" })]);
    const data = await issued("alpha");
    const key = await getKey(ns, "alpha");
    const id = key?.status?.accessKeyId ?? "";
    expect(id).toMatch(/^KGAK[A-Z2-7]{16}$/);
    expect(data.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(data).toMatchObject({
      accessKeyId: id,
      AWS_ACCESS_KEY_ID: id,
      AWS_SECRET_ACCESS_KEY: data.secretAccessKey,
      ALIBABA_CLOUD_ACCESS_KEY_ID: id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: data.secretAccessKey,
      HUAWEICLOUD_SDK_AK: id,
      HUAWEICLOUD_SDK_SK: data.secretAccessKey,
    });
    expect(data.credentials).toContain(`aws_secret_access_key = ${data.secretAccessKey}`);
    // The consoles' downloads, byte for byte (test/unit/credentials/console-csv.test.ts says why each byte).
    expect(data["accessKeys.csv"]).toBe(`\uFEFFAccess key ID,Secret access key\r\n${id},${data.secretAccessKey}\r\n`);
    expect(data["AccessKey.csv"]).toBe(`AccessKey ID,AccessKey Secret\r\n${id},${data.secretAccessKey}\r\n`);
    expect(data["credentials.csv"]).toBe(`User Name,Access Key Id,Secret Access Key\r\n"alice",${id},${data.secretAccessKey}\r\n`);
    expect(key?.status).toMatchObject({ state: "Active", secretRef: { name: "alpha-credentials" } });
    expect(key?.status?.lastUsed?.time).toBe(key?.status?.createdAt);
    expect(JSON.stringify(key)).not.toContain(data.secretAccessKey);
    const { stdout } = await kubectl(["get", "ak", "alpha", "-n", ns.name]);
    expect(stdout).toMatch(/ID\s+USER\s+STATE\s+AGE\s+LAST USED/);
    expect(stdout).toContain(id);
    expect(await eventReasons(ns, "alpha")).toContain("Issued");
  });

  it("changes nothing when the same manifests are applied again, client-side or server-side", async () => {
    const before = await getKey(ns, "alpha");
    const secretBefore = await readSecretData(ns, "alpha-credentials");
    const eventsBefore = (await eventReasons(ns, "alpha")).length;
    await apply(ns, [manifest("alpha", { user: "alice", description: "ci" })]);
    await apply(ns, [manifest("alpha", { user: "alice", description: "ci" })], ["--server-side", "--field-manager=argocd-controller"]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await getKey(ns, "alpha");
    expect(after?.status?.accessKeyId).toBe(before?.status?.accessKeyId);
    expect(await readSecretData(ns, "alpha-credentials")).toEqual(secretBefore);
    expect((await eventReasons(ns, "alpha")).length).toBe(eventsBefore);
  });

  it("denies a user's third key at admission, naming the user and both keys", async () => {
    await apply(ns, [manifest("beta", { user: "alice" })]);
    await issued("beta");
    const error = await apply(ns, [manifest("gamma", { user: "alice" })]).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain("denied the request");
    expect(error).toContain("user alice already has 2 access keys (alpha and beta)");
    expect(await getKey(ns, "gamma")).toBeUndefined();
  });

  it("deactivates and reactivates a key, with an Event for each", async () => {
    await setState(ns, "beta", "Inactive");
    const inactive = await waitForReason(ns, "beta", "Inactive");
    expect(inactive.status?.state).toBe("Inactive");
    await setState(ns, "beta", "Active");
    await waitForReason(ns, "beta", "Issued");
    const reasons = await eventReasons(ns, "beta");
    expect(reasons).toContain("Deactivated");
    expect(reasons).toContain("Reactivated");
  });

  it("denies deleting an Active key", async () => {
    const error = await kubectl(["delete", "accesskey", "beta", "-n", ns.name, "--wait=false"]).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain("set spec.state to Inactive first");
    expect(await getKey(ns, "beta")).toBeDefined();
  });

  it("moves a deleted Inactive key to the recycle bin and restores the same id and secret", async () => {
    const original = await getKey(ns, "beta");
    const originalSecret = await readSecretData(ns, "beta-credentials");
    const id = original?.status?.accessKeyId ?? "";
    await setState(ns, "beta", "Inactive");
    await waitForReason(ns, "beta", "Inactive");
    await kubectl(["delete", "accesskey", "beta", "-n", ns.name, "--timeout=60s"]);
    const record = await ns.core.readNamespacedSecret({ namespace: op.namespace, name: recordName(id) });
    expect(record.metadata?.labels?.["keystore.keygate.dev/state"]).toBe("Recycled");
    await apply(ns, [manifest("beta-restored", { user: "alice", restoreFrom: id })]);
    const restored = await issued("beta-restored");
    expect(restored.accessKeyId).toBe(id);
    expect(restored.secretAccessKey).toBe(originalSecret?.secretAccessKey);
    expect(await eventReasons(ns, "beta-restored")).toContain("Restored");
  });

  it("refuses to restore a key whose retention has ended", async () => {
    await apply(ns, [manifest("delta", { user: "bob" })]);
    await issued("delta");
    const id = (await getKey(ns, "delta"))?.status?.accessKeyId ?? "";
    await setState(ns, "delta", "Inactive");
    await waitForReason(ns, "delta", "Inactive");
    await kubectl(["delete", "accesskey", "delta", "-n", ns.name, "--timeout=60s"]);
    op.advance(31 * DAY);
    await apply(ns, [manifest("delta-restored", { user: "bob", restoreFrom: id })]);
    const refused = await waitForReason(ns, "delta-restored", "RestoreFailed");
    expect(refused.status?.conditions?.[0]?.message).toMatch(/retention has ended|no deleted key/);
    expect(await readSecretData(ns, "delta-restored-credentials")).toBeUndefined();
  });

  it("never touches a Secret it did not create", async () => {
    await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: "foreign" }, stringData: { note: "mine" } },
    });
    await apply(ns, [manifest("epsilon", { user: "carol", secretName: "foreign" })]);
    const key = await waitForReason(ns, "epsilon", "SecretConflict");
    expect(key.status?.conditions?.[0]?.status).toBe("False");
    expect(await readSecretData(ns, "foreign")).toEqual({ note: "mine" });
    expect(await eventReasons(ns, "epsilon")).toContain("SecretConflict");
  });

  it("issues a key blocked by a foreign Secret once that Secret is gone, and lets it hold no slot meanwhile", async () => {
    await ns.core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name: "blocked-credentials" }, stringData: { note: "mine" } } });
    await apply(ns, [manifest("blocked", { user: "heidi" })]);
    const conflicted = await waitForReason(ns, "blocked", "SecretConflict");
    expect(conflicted.status?.accessKeyId).toBeUndefined();
    // The blocked key is the oldest of the user's three, and still both others are issued.
    await apply(ns, [manifest("unblocked-1", { user: "heidi" }), manifest("unblocked-2", { user: "heidi" })]);
    await issued("unblocked-1");
    await issued("unblocked-2");
    const records = await ns.core.listNamespacedSecret({ namespace: op.namespace, labelSelector: `${RECORD_OWNER_LABEL}=${conflicted.metadata.uid ?? ""}` });
    expect(records.items).toHaveLength(0);

    // Nothing watches a Secret keygate did not create: the conflict is looked at again by itself.
    await ns.core.deleteNamespacedSecret({ namespace: ns.name, name: "blocked-credentials" });
    expect((await waitForReason(ns, "blocked", "KeyLimitExceeded")).status?.accessKeyId).toBeUndefined();
    // A slot given back wakes the key waiting for it.
    await setState(ns, "unblocked-2", "Inactive");
    await kubectl(["delete", "accesskey", "unblocked-2", "-n", ns.name, "--timeout=60s"]);
    const data = await issued("blocked");
    expect(data.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
  });

  it("reports a deleted issued Secret as missing and never issues a new secret", async () => {
    await apply(ns, [manifest("zeta", { user: "dave" })]);
    const data = await issued("zeta");
    await ns.core.deleteNamespacedSecret({ namespace: ns.name, name: "zeta-credentials" });
    const key = await waitForReason(ns, "zeta", "SecretMissing");
    expect(key.status?.accessKeyId).toBe(data.accessKeyId);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await readSecretData(ns, "zeta-credentials")).toBeUndefined();
  });

  it("rejects bad input at the API server with the field named, and changes nothing", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ user: "no spaces allowed" }, /spec\.user/],
      [{ user: "erin", allowedSourceCIDRs: ["10.0.0.1/33"] }, /spec\.allowedSourceCIDRs/],
      [{ user: "erin", state: "Sleeping" }, /spec\.state/],
    ];
    for (const [spec, field] of cases) {
      const error = await apply(ns, [manifest("bad", spec)]).then(
        () => "",
        (e: unknown) => String(e),
      );
      expect(error).toMatch(field);
    }
    const change = await kubectl([
      "patch", "accesskey", "alpha", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { user: "mallory" } }),
    ]).then(() => "", (e: unknown) => String(e));
    expect(change).toContain("user is immutable");
    expect(await getKey(ns, "bad")).toBeUndefined();
  });

  it("caps a user at two issued keys even when the webhook is bypassed and 20 are created at once", async () => {
    await op.operator.unregisterWebhook();
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ns.custom.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: ns.name,
            plural: PLURAL,
            body: manifest(`burst-${String(i).padStart(2, "0")}`, { user: "frank" }),
          }),
        ),
      );
    } finally {
      await op.operator.registerWebhook();
    }
    const reasons = await waitFor("every burst key to be decided", async () => {
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => getKey(ns, `burst-${String(i).padStart(2, "0")}`)));
      const decided = all.map((key) => key?.status?.conditions?.[0]?.reason);
      return decided.every((reason) => reason === "Issued" || reason === "KeyLimitExceeded") ? decided : undefined;
    }, 60_000);
    expect(reasons.filter((reason) => reason === "Issued")).toHaveLength(2);
    expect(reasons.filter((reason) => reason === "KeyLimitExceeded")).toHaveLength(18);
    const secrets = await ns.core.listNamespacedSecret({ namespace: ns.name, labelSelector: "app.kubernetes.io/managed-by=keygate" });
    const frank = secrets.items.filter((secret) => secret.metadata?.name?.startsWith("burst-"));
    expect(frank.map((s) => s.metadata?.name).sort()).toEqual(["burst-00-credentials", "burst-01-credentials"]);
    for (const secret of frank) issuedSecrets.push(Buffer.from(secret.data?.secretAccessKey ?? "", "base64").toString());
  });

  it("lets a namespace holding Active keys be deleted, sending its keys to the recycle bin", async () => {
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const doomed = `${ns.name}-doomed`;
    await core.createNamespace({ body: { metadata: { name: doomed } } });
    const doomedNs = { ...ns, name: doomed };
    await apply(doomedNs, [manifest("live", { user: "gina" })]);
    await waitForReason(doomedNs, "live", "Issued");
    const id = (await getKey(doomedNs, "live"))?.status?.accessKeyId ?? "";
    await core.deleteNamespace({ name: doomed });
    await waitFor(
      "the namespace to be gone",
      () => core.readNamespace({ name: doomed }).then(() => undefined, (e: unknown) => (e instanceof k8s.ApiException && e.code === 404 ? true : undefined)),
      90_000,
    );
    const record = await core.readNamespacedSecret({ namespace: op.namespace, name: recordName(id) });
    expect(record.metadata?.labels?.["keystore.keygate.dev/state"]).toBe("Recycled");
  });
});
