import { readFile, stat, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessKey } from "../../src/api/accesskey.js";
import { GROUP, PLURAL, readSecretData, VERSION } from "../support/accesskeys.js";
import { controlPlane, useNamespace } from "../support/cluster.js";
import { certificateIdentity, type Identity } from "../support/identities.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { type PluginRun, runPlugin } from "../support/plugin.js";

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

describe("kubectl keygate, the real executable against the real API server and operator", () => {
  const ns = useNamespace("plugin");
  let op: TestOperator;
  let alice: Identity;
  let files: string;
  const shownSecrets: string[] = [];

  const rbac = (): k8s.RbacAuthorizationV1Api => ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api);

  async function grant(role: string, rules: k8s.V1PolicyRule[], username: string): Promise<void> {
    await rbac().createNamespacedRole({ namespace: ns.name, body: { metadata: { name: role }, rules } });
    await rbac().createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: role },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: username }],
      },
    });
  }

  /** The plugin as alice, whose username oidc:alice maps to user alice. */
  function asAlice(args: readonly string[], input?: string): Promise<PluginRun> {
    return runPlugin(alice.kubeconfigPath, ["-n", ns.name, "--strip-username-prefixes", "oidc:", ...args], { input });
  }

  function asAdmin(args: readonly string[]): Promise<PluginRun> {
    return runPlugin(controlPlane().kubeconfigPath, ["-n", ns.name, ...args]);
  }

  async function keysOf(user: string): Promise<AccessKey[]> {
    const list = (await ns.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns.name })) as { items: AccessKey[] };
    return list.items.filter((key) => key.spec.user === user);
  }

  /** A key of the user as the cluster holds it, with the secret of its issued Secret (remembered: logs must never show it). */
  async function issuedKey(user: string, pick: (key: AccessKey) => boolean = () => true): Promise<{ name: string; id: string; secret: string }> {
    const key = (await keysOf(user)).find(pick);
    if (!key?.status?.secretRef || !key.status.accessKeyId) throw new Error(`no issued key of ${user}`);
    const secret = (await readSecretData(ns, key.status.secretRef.name))?.secretAccessKey ?? "";
    shownSecrets.push(secret);
    return { name: key.metadata.name ?? "", id: key.status.accessKeyId, secret };
  }

  function expectOneLineRefusal(run: PluginRun, text: string): void {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(run.stderr).toContain(text);
  }

  beforeAll(async () => {
    op = await startTestOperator({ stripUsernamePrefixes: ["oidc:"] });
    alice = await certificateIdentity("oidc:alice");
    files = await mkdtemp(join(tmpdir(), "plugin-files-"));
    await grant(
      "alice",
      [
        { apiGroups: ["iam.keygate.dev"], resources: ["accesskeys", "recycledaccesskeys", "accountpolicies"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      ],
      "oidc:alice",
    );
  });

  afterAll(async () => {
    const logs = op.logs.text();
    for (const secret of shownSecrets) expect(logs).not.toContain(secret);
    await op?.operator.stop();
  });

  describe("create-key", () => {
    it("creates a key for the caller's own user and shows its secret exactly once", async () => {
      const run = await asAlice(["create-key"]);
      expect(run.stderr).toContain("Waiting for accesskey/alice-");
      expect(run.code).toBe(0);
      const { name, id, secret } = await issuedKey("alice");
      expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(name).toMatch(/^alice-[a-z0-9]{5}$/);
      expect(run.stdout).toContain(`Access key created for user alice in namespace ${ns.name} (accesskey/${name}).`);
      expect(run.stdout).toContain(`Access key ID       ${id}`);
      expect(occurrences(run.stdout, secret)).toBe(1);
      expect(run.stderr).not.toContain(secret);
      expect(run.stdout).toContain("This is the only time the secret access key is shown");
    });

    it("downloads the pair into a new file of mode 0600 instead, and never overwrites one", async () => {
      const file = join(files, "alice-accessKeys.csv");
      const run = await asAlice(["create-key", "--download", "csv", file]);
      expect(run.code).toBe(0);
      const { id, secret } = await issuedKey("alice", (key) => run.stdout.includes(`accesskey/${key.metadata.name}`));
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, "utf8")).toBe(`\uFEFFAccess key ID,Secret access key\r\n${id},${secret}\r\n`);
      expect(run.stdout).toContain(`Secret access key   written to ${file} (csv, mode 0600)`);
      expect(run.stdout + run.stderr).not.toContain(secret);

      const again = await asAlice(["create-key", "--download", "csv", file]);
      expectOneLineRefusal(again, `${file} exists: refusing to overwrite it`);
      expect(await readFile(file, "utf8")).toContain(secret);
      expect(await keysOf("alice")).toHaveLength(2);
    });

    it("refuses a third key with the webhook's message on one line, and creates nothing", async () => {
      const file = join(files, "third.env");
      const run = await asAlice(["create-key", "--download", "env", file]);
      expectOneLineRefusal(run, "denied the request");
      expect(run.stderr).toMatch(/2/);
      expect(await keysOf("alice")).toHaveLength(2);
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
    });

    it("acts for another user when the caller may, writing every cloud's variables to an env file", async () => {
      const file = join(files, "bob.env");
      const run = await asAdmin(["create-key", "bob", "--name", "bob-ci", "--description", "ci", "--download", "env", file]);
      expect(run.code).toBe(0);
      const [key] = await keysOf("bob");
      expect(key?.metadata.name).toBe("bob-ci");
      expect(key?.spec.description).toBe("ci");
      const content = await readFile(file, "utf8");
      const id = key?.status?.accessKeyId ?? "";
      expect(content).toMatch(new RegExp(`^AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=[A-Za-z0-9_-]{40}\nALIBABA_CLOUD_ACCESS_KEY_ID=${id}\n`));
      expect(content).toContain("HUAWEICLOUD_SDK_SK=");
    });

    it("refuses another user's key for a caller who may not act for them", async () => {
      const run = await asAlice(["create-key", "bob"]);
      expectOneLineRefusal(run, "may not create an access key for user bob");
      expect(await keysOf("bob")).toHaveLength(1);
    });

    it("prints the AccessKey it would create on --dry-run=client, and creates nothing on either dry run", async () => {
      const client = await asAdmin(["create-key", "carol", "--dry-run=client"]);
      expect(client.code).toBe(0);
      expect(client.stdout).toContain("kind: AccessKey");
      expect(client.stdout).toContain("generateName: carol-");
      const server = await asAdmin(["create-key", "carol", "--dry-run", "server"]);
      expect(server.code).toBe(0);
      expect(server.stdout).toMatch(/^accesskey\/carol-[a-z0-9]{5} created \(server dry run\)\n$/);
      expect(await keysOf("carol")).toHaveLength(0);
    });

    it("gives a usage error (exit 2) for a malformed command line", async () => {
      const run = await asAlice(["create-key", "--download", "pdf", join(files, "x.pdf")]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe('error: --download format must be one of csv, env, ini, json, not "pdf"\n');
    });
  });
});
