import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecycledAccessKey } from "../../src/api/recycledaccesskey.js";
import { recordName } from "../../src/keystore/record.js";
import { READ_ONLY_MESSAGE } from "../../src/kinds/recycledaccesskey/admission.js";
import { ADMIN_USER } from "../../src/controlplane/pki-files.js";
import { DELETED_BY_ANNOTATION, PURGE_FINALIZER } from "../../src/labels.js";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, eventReasons, GROUP, manifest, readSecretData, setState, VERSION, waitForReason } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const DAY = 24 * 60 * 60 * 1000;
const RETENTION_MS = 30 * DAY;
const PLURAL = "recycledaccesskeys";
// Someone other than keygate, with every right RBAC can give: only admission stands in the way.
const AS_USER = ["--as=mallory@example.com", "--as-group=system:masters"];
const request: HttpRequestDescription = { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", "api.example.test"]] };

interface IssuedKey {
  id: string;
  secret: string;
}

function failure(run: Promise<unknown>): Promise<string> {
  return run.then(
    () => "",
    (error: unknown) => String(error),
  );
}

describe("the recycle bin (RecycledAccessKey) against the real API server and admission webhook", () => {
  const ns = useNamespace("bin");
  let op: TestOperator;
  let verifier: RunningVerifier;
  const secrets: string[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    op = await startTestOperator({ retentionMs: RETENTION_MS });
    verifier = await startTestVerifier(op.namespace, { log: op.log });
  });

  afterAll(async () => {
    await verifier.stop();
    await op.operator.stop();
    // No secret of a key that went through the bin appears in any operator's logs.
    logs.push(op.logs.text());
    for (const secret of secrets) for (const text of logs) expect(text).not.toContain(secret);
  });

  async function issue(name: string, spec: Record<string, unknown>): Promise<IssuedKey> {
    await apply(ns, [manifest(name, spec)]);
    const key = await waitForReason(ns, name, "Issued");
    const data = await readSecretData(ns, key.status?.secretRef?.name ?? "");
    const issued = { id: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    secrets.push(issued.secret);
    return issued;
  }

  /**
   * Deactivates and deletes the key as the admin; the webhook records the admin as the deleter,
   * unless `unrecorded`: then no webhook answers the delete, as when it was bypassed.
   */
  async function deleteKey(name: string, unrecorded = false): Promise<void> {
    await setState(ns, name, "Inactive");
    await waitForReason(ns, name, "Inactive");
    if (unrecorded) await op.operator.unregisterWebhook();
    try {
      await waitFor("the delete to be admitted", () =>
        kubectl(["delete", "accesskey", name, "-n", ns.name, "--timeout=60s"]).then(
          () => true,
          () => undefined,
        ),
      );
    } finally {
      if (unrecorded) await op.operator.registerWebhook();
    }
  }

  async function binObject(id: string): Promise<RecycledAccessKey | undefined> {
    try {
      const name = id.toLowerCase();
      return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name })) as RecycledAccessKey;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  function waitForBinObject(id: string, timeoutMs = 30_000): Promise<RecycledAccessKey> {
    return waitFor(`RecycledAccessKey ${id} to exist`, () => binObject(id), timeoutMs);
  }

  function waitForBinObjectGone(id: string, timeoutMs = 30_000): Promise<boolean> {
    return waitFor(`RecycledAccessKey ${id} to be gone`, async () => ((await binObject(id)) === undefined ? true : undefined), timeoutMs);
  }

  async function recordState(id: string): Promise<string | undefined> {
    try {
      const record = await ns.core.readNamespacedSecret({ namespace: op.namespace, name: recordName(id) });
      return record.metadata?.labels?.["keystore.keygate.dev/state"];
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async function verifies(key: IssuedKey): Promise<number> {
    const signed = signSigV4(request, { accessKeyId: key.id, secret: key.secret, region: "eu-central-1", service: "things" }, new Date());
    return (await postVerify(verifier.url, verifyBody(signed))).status;
  }

  /** Stops the operator and starts another on the same keystore and clock, as a new leader. */
  async function restartOperator(whileStopped: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    await op.operator.stop();
    logs.push(op.logs.text());
    await whileStopped();
    op = await startTestOperator({ namespace: op.namespace, clock: op.clock, retentionMs: RETENTION_MS });
  }

  let alpha: IssuedKey;

  it("lists a deleted key with its id, user, deleter and expiry, and shows its secret nowhere", async () => {
    alpha = await issue("alpha", { user: "alice", description: "ci runner" });
    expect(await verifies(alpha)).toBe(200);
    await deleteKey("alpha");
    // The AccessKey's finalizer goes only once its bin object exists.
    const object = await binObject(alpha.id);
    expect(object?.spec).toMatchObject({ accessKeyId: alpha.id, user: "alice", accessKeyName: "alpha", description: "ci runner", deletedBy: ADMIN_USER });
    const { deletedAt = "", expiresAt = "" } = object?.spec ?? {};
    expect(Date.parse(expiresAt) - Date.parse(deletedAt)).toBe(RETENTION_MS);
    expect(Math.abs(Date.parse(deletedAt) - op.clock.now())).toBeLessThan(60_000);
    expect(object?.metadata.finalizers).toEqual([PURGE_FINALIZER]);
    expect(await verifies(alpha)).toBe(403);

    const { stdout } = await kubectl(["get", "recycledaccesskeys", "-n", ns.name]);
    expect(stdout).toMatch(/NAME\s+ID\s+USER\s+DELETED BY\s+DELETED\s+EXPIRES/);
    const row = stdout.split("\n").find((line) => line.startsWith(alpha.id.toLowerCase())) ?? "";
    expect(row).toMatch(new RegExp(`${alpha.id}\\s+alice\\s+${ADMIN_USER}\\s+\\S+\\s+${expiresAt.replace(/\./g, "\\.")}`));
    const wide = await kubectl(["get", "rak", alpha.id.toLowerCase(), "-n", ns.name, "-o", "wide"]);
    expect(wide.stdout).toMatch(/alpha\s+ci runner/);

    const ready = await waitFor("the bin object to report InRecycleBin", async () => {
      const found = await binObject(alpha.id);
      return found?.status?.conditions?.find((condition) => condition.type === "Ready" && condition.reason === "InRecycleBin");
    });
    expect(ready.message).toContain(`spec.restoreFrom: ${alpha.id}`);
    const yaml = await kubectl(["get", "rak", alpha.id.toLowerCase(), "-n", ns.name, "-o", "yaml"]);
    expect(yaml.stdout).not.toContain(alpha.secret);
    expect(JSON.stringify(await binObject(alpha.id))).not.toContain(alpha.secret);
  });

  it("says plainly that the deleter is unknown when the deletion did not record it", async () => {
    const beta = await issue("beta", { user: "bob" });
    await deleteKey("beta", true);
    expect((await binObject(beta.id))?.spec.deletedBy).toBe("unknown");
    const { stdout } = await kubectl(["get", "rak", "-n", ns.name, "--field-selector", "spec.user=bob"]);
    expect(stdout).toMatch(new RegExp(`${beta.id}\\s+bob\\s+unknown`));
  });

  it("restores the same id and secret, which verify again, and the bin object goes", async () => {
    await apply(ns, [manifest("alpha-restored", { user: "alice", restoreFrom: alpha.id })]);
    const restored = await waitForReason(ns, "alpha-restored", "Issued");
    const data = await readSecretData(ns, restored.status?.secretRef?.name ?? "");
    expect(data?.accessKeyId).toBe(alpha.id);
    expect(data?.secretAccessKey).toBe(alpha.secret);
    expect(await verifies(alpha)).toBe(200);
    await waitForBinObjectGone(alpha.id);
    // Its finalizer saw the record live again: the restored key was not purged.
    expect(await recordState(alpha.id)).toBe("Active");
    expect(await verifies(alpha)).toBe(200);
  });

  it("shows a restored key again when it is deleted again, noting the new deletion", async () => {
    const first = Date.now();
    await deleteKey("alpha-restored");
    const object = await binObject(alpha.id);
    expect(object?.spec).toMatchObject({ accessKeyName: "alpha-restored", deletedBy: ADMIN_USER });
    expect(Date.parse(object?.spec.deletedAt ?? "")).toBeGreaterThanOrEqual(first - 1000);
  });

  it("purges a key for good when a user deletes its bin object: a later restore fails clearly and never gets the old secret", async () => {
    const gamma = await issue("gamma", { user: "gina" });
    await deleteKey("gamma");
    await kubectl([...AS_USER, "delete", "rak", gamma.id.toLowerCase(), "-n", ns.name, "--timeout=60s"]);
    expect(await binObject(gamma.id)).toBeUndefined();
    expect(await recordState(gamma.id)).toBeUndefined();
    expect(await eventReasons(ns, gamma.id.toLowerCase())).toContain("Purged");
    expect(await verifies(gamma)).toBe(403);

    await apply(ns, [manifest("gamma-restored", { user: "gina", restoreFrom: gamma.id })]);
    const refused = await waitForReason(ns, "gamma-restored", "RestoreFailed");
    const ready = refused.status?.conditions?.find((condition) => condition.type === "Ready");
    expect(ready?.message).toBe(`no deleted key ${gamma.id} of user gina is in the recycle bin`);
    expect(refused.status?.accessKeyId).toBeUndefined();
    expect(await readSecretData(ns, "gamma-restored-credentials")).toBeUndefined();
    expect(await recordState(gamma.id)).toBeUndefined();
  });

  it("refuses a user's create or update of a bin object at admission, naming the way to purge or restore", async () => {
    const beta = (await kubectl(["get", "rak", "-n", ns.name, "--field-selector", "spec.user=bob", "-o", "name"])).stdout.trim();
    expect(beta).toMatch(/^recycledaccesskey\.iam\.keygate\.dev\/kgak/);
    const written = async (): Promise<unknown> => {
      const object = JSON.parse((await kubectl(["get", beta, "-n", ns.name, "-o", "json"])).stdout) as RecycledAccessKey;
      return { spec: object.spec, labels: object.metadata.labels, finalizers: object.metadata.finalizers };
    };
    const before = await written();
    const forged = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "RecycledAccessKey",
      metadata: { name: "kgakaaaaaaaaaaaaaaaa" },
      spec: { accessKeyId: "KGAKAAAAAAAAAAAAAAAA", user: "mallory", deletedBy: "nobody", deletedAt: "2026-01-01T00:00:00Z", expiresAt: "2099-01-01T00:00:00Z" },
    };
    const refusedByWebhook = [
      [...AS_USER, "label", beta, "-n", ns.name, "tampered=yes"],
      [...AS_USER, "annotate", beta, "-n", ns.name, `${DELETED_BY_ANNOTATION}=someone-else`],
    ];
    const created = await failure(kubectl([...AS_USER, "create", "-n", ns.name, "-f", "-"], undefined, JSON.stringify(forged)));
    for (const error of [created, ...(await Promise.all(refusedByWebhook.map((args) => failure(kubectl(args)))))]) {
      expect(error).toContain("denied the request");
      expect(error).toContain(READ_ONLY_MESSAGE);
    }
    expect(await binObject("KGAKAAAAAAAAAAAAAAAA")).toBeUndefined();
    // The facts are refused before the webhook is asked, to anyone, keygate included: the CRD's CEL rule.
    for (const identity of [AS_USER, []]) {
      const patch = [...identity, "patch", beta, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { deletedBy: "someone-else" } })];
      expect(await failure(kubectl(patch))).toContain("spec is immutable: RecycledAccessKey is written by keygate only");
    }
    expect(await written()).toEqual(before);
  });

  it("gives a record recycled by an earlier version, with no bin object, its object when an operator starts", async () => {
    const delta = await issue("delta", { user: "dora", description: "legacy" });
    await deleteKey("delta");
    const recycledAt = (await binObject(delta.id))?.spec.deletedAt ?? "";
    await restartOperator(async () => {
      // An earlier version made no object: take this one away, finalizer and all, while no webhook answers.
      await op.operator.unregisterWebhook();
      await kubectl(["patch", "rak", delta.id.toLowerCase(), "-n", ns.name, "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/metadata/finalizers" }])]);
      await kubectl(["delete", "rak", delta.id.toLowerCase(), "-n", ns.name, "--timeout=60s"]);
      expect(await recordState(delta.id)).toBe("Recycled");
    });
    const shown = await waitForBinObject(delta.id);
    expect(shown.spec).toEqual({
      accessKeyId: delta.id,
      user: "dora",
      deletedBy: "unknown",
      deletedAt: recycledAt,
      expiresAt: new Date(Date.parse(recycledAt) + RETENTION_MS).toISOString(),
    });
    expect(shown.metadata.finalizers).toEqual([PURGE_FINALIZER]);
    expect(await recordState(delta.id)).toBe("Recycled");
    // The objects that were there are left as they are, not made twice.
    expect((await binObject(alpha.id))?.spec.deletedBy).toBe(ADMIN_USER);
  });

  it("purges the record and removes the bin object when the retention ends", async () => {
    const epsilon = await issue("epsilon", { user: "erin" });
    await deleteKey("epsilon");
    await waitForBinObject(epsilon.id);
    op.advance(RETENTION_MS + DAY);
    // A new leader sweeps the bin at once; a running one at the next record due.
    await restartOperator();
    await waitForBinObjectGone(epsilon.id);
    await waitFor("the record to be purged", async () => ((await recordState(epsilon.id)) === undefined ? true : undefined));
    expect(await binObject(alpha.id)).toBeUndefined();
    expect(await recordState(alpha.id)).toBeUndefined();
    expect(await verifies(epsilon)).toBe(403);
  });

  it("purges the bin of a namespace deleted with it (the account is closed)", async () => {
    const doomed = { ...ns, name: `${ns.name}-closed` };
    await ns.core.createNamespace({ body: { metadata: { name: doomed.name } } });
    await apply(doomed, [manifest("zeta", { user: "zoe" })]);
    const zeta = await waitForReason(doomed, "zeta", "Issued");
    const id = zeta.status?.accessKeyId ?? "";
    await setState(doomed, "zeta", "Inactive");
    await waitForReason(doomed, "zeta", "Inactive");
    await kubectl(["delete", "accesskey", "zeta", "-n", doomed.name, "--timeout=60s"]);
    expect(await recordState(id)).toBe("Recycled");
    await ns.core.deleteNamespace({ name: doomed.name });
    await waitFor(
      "the namespace to be gone",
      () => ns.core.readNamespace({ name: doomed.name }).then(() => undefined, (e: unknown) => (e instanceof k8s.ApiException && e.code === 404 ? true : undefined)),
      90_000,
    );
    expect(await recordState(id)).toBeUndefined();
  });
});
