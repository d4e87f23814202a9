import { readFile, stat, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { generateSync } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessKey } from "../../src/api/accesskey.js";
import { GROUP, PLURAL, readSecretData, VERSION } from "../support/accesskeys.js";
import { controlPlane, useNamespace } from "../support/cluster.js";
import { certificateIdentity, type Identity } from "../support/identities.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { type PluginRun, runPlugin, Terminal } from "../support/plugin.js";
import { waitFor } from "../support/wait.js";

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

  /** The plugin as alice in a real terminal, where it may ask. */
  function aliceAtTerminal(args: readonly string[]): Promise<Terminal> {
    return Terminal.start(alice.kubeconfigPath, ["-n", ns.name, "--strip-username-prefixes", "oidc:", ...args]);
  }

  async function keyNamed(name: string): Promise<AccessKey | undefined> {
    return (await keysOf("alice")).find((key) => key.metadata.name === name);
  }

  /** What the verifier writes after a verified request, so many hours ago. */
  async function markUsed(name: string, hoursAgo: number): Promise<void> {
    const time = new Date(Date.now() - hoursAgo * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const lastUsed = { time, service: "s3", region: "us-east-1", sourceIP: "10.0.0.7" };
    await ns.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: ns.name, name, body: { status: { lastUsed } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  async function setPolicy(spec: Record<string, unknown>): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "AccountPolicy", metadata: { name: "default" }, spec };
    await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "accountpolicies", namespace: ns.name, body });
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
      expectOneLineRefusal(run, 'admission webhook "accesskeys.iam.keygate.dev" denied the request: user alice already has 2 access keys');
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

  describe("keys", () => {
    it("lists the caller's keys as the consoles do: id, state, created, last use", async () => {
      const [first, second] = [...(await keysOf("alice"))].sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
      await markUsed(first?.metadata.name ?? "", 2);
      await waitFor("the last use in status", async () => ((await keyNamed(first?.metadata.name ?? ""))?.status?.lastUsed?.service ? true : undefined));
      const run = await asAlice(["keys"]);
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^ID\s+STATE\s+CREATED\s+LAST USED\s+SERVICE\s+REGION\s+SOURCE IP\s+NOTE$/);
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(new RegExp(`^${first?.status?.accessKeyId}\\s+Active\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\s+2h ago\\s+s3\\s+us-east-1\\s+10\\.0\\.0\\.7$`));
      expect(lines[2]).toMatch(new RegExp(`^${second?.status?.accessKeyId}\\s+Active\\s+.+\\s+never$`));
      for (const secret of shownSecrets) expect(run.stdout).not.toContain(secret);
    });

    it("shows names and descriptions with -o wide, every user with --all-users, and the objects with -o json", async () => {
      const wide = await asAdmin(["keys", "bob", "-o", "wide"]);
      expect(wide.stdout).toMatch(/NAME\s+LAST USED AT\s+DESCRIPTION\n/);
      expect(wide.stdout).toMatch(/bob-ci\s+ci\n/);
      const all = await asAlice(["keys", "--all-users"]);
      expect(all.stdout).toMatch(/^USER\s+ID/);
      expect(all.stdout.split("\n").filter((line) => line.startsWith("alice "))).toHaveLength(2);
      expect(all.stdout.split("\n").filter((line) => line.startsWith("bob "))).toHaveLength(1);
      const json = JSON.parse((await asAlice(["keys", "-o", "json"])).stdout) as { kind: string; items: AccessKey[] };
      expect(json.kind).toBe("List");
      expect(json.items.map((key) => key.spec.user)).toEqual(["alice", "alice"]);
    });

    it("warns of keys older than the account's maxKeyAge", async () => {
      await setPolicy({ maxKeyAge: "1s" });
      await waitFor("stale keys", async () => ((await keysOf("alice")).every((key) => key.status?.conditions?.some((c) => c.type === "Stale" && c.status === "True")) ? true : undefined));
      const run = await asAlice(["keys"]);
      expect(run.stdout.split("\n").filter((line) => line.endsWith("stale: rotate it"))).toHaveLength(2);
      expect(run.stderr).toMatch(/^Warning: access key KGAK[A-Z2-7]{16}, created .* is older than the account's maxKeyAge of 1s/);
      await ns.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "accountpolicies", namespace: ns.name, name: "default" });
    });
  });

  describe("activate, deactivate, delete", () => {
    const terminals: Terminal[] = [];
    afterAll(() => terminals.forEach((terminal) => terminal.close()));

    async function terminal(args: readonly string[]): Promise<Terminal> {
      const started = await aliceAtTerminal(args);
      terminals.push(started);
      return started;
    }

    async function aliceKey(state: "Active" | "Inactive" = "Active"): Promise<AccessKey> {
      const key = (await keysOf("alice")).find((candidate) => candidate.spec.state === state);
      if (!key) throw new Error(`alice has no ${state} key`);
      return key;
    }

    it("asks y/N before deactivating, and changes nothing on no", async () => {
      const key = await aliceKey();
      const tty = await terminal(["deactivate", key.status?.accessKeyId ?? ""]);
      const screen = await tty.waitForText("[y/N]:");
      expect(screen).toContain(`accesskey/${key.metadata.name} (${key.status?.accessKeyId}) of user alice, last used`);
      expect(screen).toContain("Deactivate it? Requests signed with it are refused at once [y/N]:");
      tty.type("n");
      expect(await tty.exitCode()).toBe(1);
      expect(tty.screen()).toContain(`error: deactivating accesskey/${key.metadata.name} (${key.status?.accessKeyId}): not confirmed; nothing changed`);
      expect((await keyNamed(key.metadata.name ?? ""))?.spec.state).toBe("Active");
    });

    it("deactivates on yes, and the operator applies it before the command returns", async () => {
      const key = await aliceKey();
      const tty = await terminal(["deactivate", key.metadata.name ?? ""]);
      await tty.waitForText("[y/N]:");
      tty.type("y");
      expect(await tty.exitCode()).toBe(0);
      expect(tty.screen()).toContain(`accesskey/${key.metadata.name} (${key.status?.accessKeyId}) deactivated`);
      const after = await keyNamed(key.metadata.name ?? "");
      expect(after?.spec.state).toBe("Inactive");
      expect(after?.status?.state).toBe("Inactive");
    });

    it("will not ask where no one can answer: without a terminal it needs --yes", async () => {
      const other = await aliceKey("Active");
      const run = await asAlice(["deactivate", other.metadata.name ?? ""]);
      expectOneLineRefusal(run, "needs a confirmation: run it in a terminal, or pass --yes");
      expect((await keyNamed(other.metadata.name ?? ""))?.spec.state).toBe("Active");
    });

    it("refuses to delete an Active key with the webhook's message, before asking anything", async () => {
      const other = await aliceKey("Active");
      const run = await asAlice(["delete", other.status?.accessKeyId ?? ""]);
      expectOneLineRefusal(run, `AccessKey ${other.metadata.name} is Active: set spec.state to Inactive first`);
      expect(await keyNamed(other.metadata.name ?? "")).toBeDefined();
    });

    it("refuses a typed confirmation that is not the key's id, and deletes nothing", async () => {
      const key = await aliceKey("Inactive");
      const tty = await terminal(["delete", key.metadata.name ?? ""]);
      await tty.waitForText("to confirm:");
      tty.type("yes");
      expect(await tty.exitCode()).toBe(1);
      expect(tty.screen()).toMatch(/error: deleting accesskey\/\S+ \(KGAK\w+\): confirmation "yes" does not match KGAK\w+; nothing changed/);
      expect(await keyNamed(key.metadata.name ?? "")).toBeDefined();
    });

    it("shows the webhook's recent-use warning before the typed confirmation, then deletes into the recycle bin", async () => {
      const key = await aliceKey("Inactive");
      const id = key.status?.accessKeyId ?? "";
      await markUsed(key.metadata.name ?? "", 3);
      await waitFor("the last use in status", async () => ((await keyNamed(key.metadata.name ?? ""))?.status?.lastUsed?.service ? true : undefined));
      const tty = await terminal(["delete", id]);
      const screen = await tty.waitForText(`Type ${id} to confirm:`);
      expect(screen).toContain(`Warning: AccessKey ${key.metadata.name} (${id}) was used 3 hours ago (service s3, region us-east-1, from 10.0.0.7): clients may still depend on it.`);
      expect(screen.indexOf("Warning: AccessKey")).toBeLessThan(screen.indexOf("to confirm:"));
      tty.type(id);
      expect(await tty.exitCode()).toBe(0);
      const after = tty.screen();
      expect(after).toContain(`accesskey/${key.metadata.name} (${id}) deleted: in the recycle bin, restorable with kubectl keygate recycle-bin restore ${id}`);
      expect(after.split("Warning: AccessKey")).toHaveLength(2);
      await waitFor("the key gone", async () => ((await keyNamed(key.metadata.name ?? "")) ? undefined : true));
    });

    it("activates a key again, and says so when there is nothing to change", async () => {
      const key = await aliceKey("Active");
      const [name, id] = [key.metadata.name ?? "", key.status?.accessKeyId ?? ""];
      const deactivated = await asAlice(["deactivate", name, "--yes"]);
      expect(deactivated.stdout).toContain("deactivated");
      const again = await asAlice(["deactivate", name, "--yes"]);
      expect(again.stdout).toContain("is already Inactive; nothing changed");
      const activated = await asAlice(["activate", id]);
      expect(activated.code).toBe(0);
      expect(activated.stdout).toBe(`accesskey/${name} (${id}) activated\n`);
      expect((await keyNamed(name))?.status?.state).toBe("Active");
    });

    it("names an unknown key on one line", async () => {
      for (const args of [["activate", "KGAKAAAAAAAAAAAAAAAA"], ["deactivate", "KGAKAAAAAAAAAAAAAAAA", "--yes"], ["delete", "nosuchkey", "--yes"]]) {
        expectOneLineRefusal(await asAlice(args), `no access key ${args[1]} in namespace ${ns.name}`);
      }
    });
  });

  describe("whois and the recycle bin", () => {
    const terminals: Terminal[] = [];
    afterAll(() => terminals.forEach((terminal) => terminal.close()));

    async function binIds(): Promise<string[]> {
      const list = (await ns.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "recycledaccesskeys", namespace: ns.name })) as {
        items: { spec: { accessKeyId: string } }[];
      };
      return list.items.map((item) => item.spec.accessKeyId);
    }

    async function deletedId(): Promise<string> {
      const [id] = await binIds();
      if (!id) throw new Error("the recycle bin is empty");
      return id;
    }

    it("lists the recycle bin: who deleted which key, and until when it is restorable", async () => {
      const id = await deletedId();
      const run = await asAlice(["recycle-bin"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^ID\s+USER\s+DELETED BY\s+DELETED\s+RESTORABLE UNTIL\n/);
      expect(run.stdout).toMatch(new RegExp(`${id}\\s+alice\\s+oidc:alice\\s+\\d+[smh] ago\\s+\\d{4}-\\d\\d-\\d\\dT\\S+ \\(in \\d+d\\)`));
      const json = JSON.parse((await asAlice(["recycle-bin", "list", "-o", "json"])).stdout) as { items: { spec: { accessKeyId: string } }[] };
      expect(json.items.map((item) => item.spec.accessKeyId)).toEqual([id]);
    });

    it("tells whose a live, a deleted and a temporary key is", async () => {
      const live = await issuedKey("alice");
      const mine = await asAlice(["whois", live.id]);
      expect(mine.code).toBe(0);
      expect(mine.stdout).toMatch(new RegExp(`Namespace\\s+${ns.name}\\nUser\\s+alice\\nObject\\s+accesskey/${live.name}\\nState\\s+Active`));
      const deleted = JSON.parse((await asAdmin(["whois", await deletedId(), "-o", "json"])).stdout) as { user: string; state: string; object: string };
      expect(deleted).toMatchObject({ user: "alice", object: expect.stringMatching(/^recycledaccesskey\//) as unknown, state: expect.stringMatching(/^deleted, restorable until /) as unknown });
      const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "TemporaryCredential", metadata: { name: "bob-session" }, spec: { user: "bob" } };
      await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "temporarycredentials", namespace: ns.name, body });
      const session = await waitFor("the session issued", async () => {
        const object = (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "temporarycredentials", namespace: ns.name, name: "bob-session" })) as {
          status?: { accessKeyId?: string };
        };
        return object.status?.accessKeyId;
      });
      const temporary = await asAdmin(["whois", session]);
      expect(temporary.stdout).toMatch(new RegExp(`User\\s+bob\\nObject\\s+temporarycredential/bob-session\\nState\\s+temporary, expires `));
    });

    it("says where it looked when it finds no owner", async () => {
      expectOneLineRefusal(await asAlice(["whois", "KGAKAAAAAAAAAAAAAAAA"]), `no access key KGAKAAAAAAAAAAAAAAAA in namespace ${ns.name} (you may not list keys cluster-wide)`);
      expectOneLineRefusal(await asAdmin(["whois", "KGASAAAAAAAAAAAAAAAA"]), "no access key KGASAAAAAAAAAAAAAAAA in any namespace you may list");
      expect((await asAdmin(["whois", "not-an-id"])).code).toBe(2);
    });

    it("restores a deleted key with its id, as a new AccessKey, and never shows the secret", async () => {
      const id = await deletedId();
      const run = await asAlice(["recycle-bin", "restore", id, "--name", "alice-restored"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`access key ${id} of user alice restored as accesskey/alice-restored; its secret is unchanged, in Secret alice-restored-credentials\n`);
      const restored = await issuedKey("alice", (key) => key.metadata.name === "alice-restored");
      expect(restored.id).toBe(id);
      expect(run.stdout + run.stderr).not.toContain(restored.secret);
      await waitFor("the bin emptied", async () => ((await binIds()).includes(id) ? undefined : true));
    });

    it("refuses to restore into a user who has two keys, and an id not in the bin, on one line", async () => {
      expect((await asAdmin(["create-key", "bob", "--name", "bob-second", "--download", "json", join(files, "bob.json")])).code).toBe(0);
      expect((await asAdmin(["deactivate", "bob-ci", "--yes"])).code).toBe(0);
      expect((await asAdmin(["delete", "bob-ci", "--yes"])).code).toBe(0);
      expect((await asAdmin(["create-key", "bob", "--name", "bob-third", "--download", "ini", join(files, "bob.ini")])).code).toBe(0);
      const id = await deletedId();
      expectOneLineRefusal(await asAdmin(["recycle-bin", "restore", id]), "denied the request");
      expect(await keysOf("bob")).toHaveLength(2);
      expectOneLineRefusal(await asAdmin(["recycle-bin", "restore", "KGAKAAAAAAAAAAAAAAAA"]), "access key KGAKAAAAAAAAAAAAAAAA is not in the recycle bin");
    });

    it("purges only after the id is typed", async () => {
      const id = await deletedId();
      const wrong = await Terminal.start(controlPlane().kubeconfigPath, ["-n", ns.name, "recycle-bin", "purge", id]);
      terminals.push(wrong);
      await wrong.waitForText("it can never be restored.");
      await wrong.waitForText(`Type ${id} to confirm:`);
      wrong.type(id.toLowerCase());
      expect(await wrong.exitCode()).toBe(1);
      expect(wrong.screen()).toContain(`error: purging ${id}: confirmation "${id.toLowerCase()}" does not match ${id}; nothing changed`);
      expect(await binIds()).toContain(id);
      const right = await Terminal.start(controlPlane().kubeconfigPath, ["-n", ns.name, "recycle-bin", "purge", id]);
      terminals.push(right);
      await right.waitForText("to confirm:");
      right.type(id);
      expect(await right.exitCode()).toBe(0);
      expect(right.screen()).toContain(`access key ${id} purged for good`);
      await waitFor("the key purged", async () => ((await binIds()).includes(id) ? undefined : true));
      expectOneLineRefusal(await asAdmin(["whois", id]), `no access key ${id}`);
    });
  });

  describe("under operation protection", () => {
    const STEP_MS = 30_000;
    let seed = "";
    let lastStep = 0;
    const terminals: Terminal[] = [];
    afterAll(() => terminals.forEach((terminal) => terminal.close()));

    /** A code of alice's device for a step not used yet. */
    async function nextCode(): Promise<string> {
      const current = Math.floor(Date.now() / STEP_MS);
      const step = Math.max(lastStep + 1, current);
      if (step > current + 1) await new Promise((resolve) => setTimeout(resolve, (step - 1) * STEP_MS - Date.now() + 100));
      lastStep = step;
      return generateSync({ secret: seed, epoch: step * 30 });
    }

    beforeAll(async () => {
      const device = { apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name: "alice-phone" }, spec: { user: "alice", type: "Virtual", deviceName: "phone" } };
      await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, body: device });
      seed = (await waitFor("alice's seed", () => readSecretData(ns, "alice-phone-credentials"))).seed ?? "";
      const current = Math.floor(Date.now() / STEP_MS);
      lastStep = current - 1;
      const verification = { code1: generateSync({ secret: seed, epoch: (current - 2) * 30 }), code2: generateSync({ secret: seed, epoch: (current - 1) * 30 }) };
      await ns.custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, name: "alice-phone", body: { spec: { verification } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await waitFor("alice's device bound", async () => {
        const found = (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, name: "alice-phone" })) as { status?: { bound?: boolean } };
        return found.status?.bound === true ? true : undefined;
      });
      await setPolicy({ operationProtection: true });
    });

    it("passes the webhook's refusal through when no code is given, and changes nothing", async () => {
      const key = (await keysOf("alice")).find((candidate) => candidate.spec.state === "Active");
      const run = await waitFor("operation protection at the webhook", async () => {
        const attempt = await asAlice(["deactivate", key?.metadata.name ?? "", "--yes"]);
        return attempt.stderr.includes("operation protection is on") ? attempt : undefined;
      });
      expectOneLineRefusal(run, "operation protection is on");
      expect((await keyNamed(key?.metadata.name ?? ""))?.spec.state).toBe("Active");
    });

    it("asks for the code in a terminal, and passes a wrong code's refusal through", async () => {
      const key = (await keysOf("alice")).find((candidate) => candidate.spec.state === "Active");
      const tty = await aliceAtTerminal(["deactivate", key?.metadata.name ?? ""]);
      terminals.push(tty);
      await tty.waitForText(`Operation protection is on in ${ns.name}: MFA code (empty for none):`);
      tty.type("000000");
      await tty.waitForText("[y/N]:");
      tty.type("y");
      expect(await tty.exitCode()).toBe(1);
      expect(tty.screen()).toContain("the MFA code of user alice was refused (InvalidCode)");
      expect((await keyNamed(key?.metadata.name ?? ""))?.spec.state).toBe("Active");
    });

    it("sends --mfa-code with the change, and the code is never stored", async () => {
      const key = (await keysOf("alice")).find((candidate) => candidate.spec.state === "Active");
      const code = await nextCode();
      const run = await asAlice(["deactivate", key?.metadata.name ?? "", "--yes", "--mfa-code", code]);
      expect(run.code).toBe(0);
      const after = await keyNamed(key?.metadata.name ?? "");
      expect(after?.status?.state).toBe("Inactive");
      expect(JSON.stringify(after)).not.toContain(code);
      expect((await asAlice(["activate", key?.metadata.name ?? "", "--mfa-code", "12345"])).code).toBe(2);
    });
  });
});
