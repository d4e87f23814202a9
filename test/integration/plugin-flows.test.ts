import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import jsQRModule from "jsqr";
import { generateSync } from "otplib";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessKey } from "../../src/api/accesskey.js";
import type { MfaDevice } from "../../src/api/mfadevice.js";
import type { TemporaryCredential } from "../../src/api/temporarycredential.js";
import { ROTATING_FROM_ANNOTATION } from "../../src/labels.js";
import { GROUP, readSecretData, VERSION } from "../support/accesskeys.js";
import { controlPlane, useNamespace } from "../support/cluster.js";
import { certificateIdentity, type Identity } from "../support/identities.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { type PluginRun, runPlugin, Terminal } from "../support/plugin.js";
import { waitFor } from "../support/wait.js";

const jsQR = jsQRModule.default;
const occurrences = (text: string, part: string): number => text.split(part).length - 1;

function decodeQr(width: number, height: number, dark: (x: number, y: number) => boolean): string {
  const scale = 4;
  const margin = 4;
  const w = (width + 2 * margin) * scale;
  const h = (height + 2 * margin) * scale;
  const pixels = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const mx = Math.floor(x / scale) - margin;
      const my = Math.floor(y / scale) - margin;
      if (mx >= 0 && my >= 0 && mx < width && my < height && dark(mx, my)) pixels.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3);
    }
  }
  return jsQR(pixels, w, h)?.data ?? "";
}

// What a phone's camera reads off the terminal: each character is two modules, upper and lower half.
function scanTerminal(screen: string): string {
  const rows = screen.split("\n").filter((line) => /^[ ▀▄█]+$/.test(line) && /[▀▄█]/.test(line));
  const width = Math.max(...rows.map((row) => [...row].length));
  const glyph = (x: number, y: number): string => [...(rows[Math.floor(y / 2)] ?? "")][x] ?? " ";
  return decodeQr(width, rows.length * 2, (x, y) => {
    const char = glyph(x, y);
    return char === "█" || (y % 2 === 0 ? char === "▀" : char === "▄");
  });
}

function scanPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? "";
}

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

const codeAt = (secret: string, unixMs: number): string => generateSync({ secret, epoch: Math.floor(unixMs / 1000) });

describe("kubectl keygate mfa, session and rotate, the real executable in a terminal against the real API server and operator", () => {
  const ns = useNamespace("plugin-flows");
  let op: TestOperator;
  let alice: Identity;
  let files: string;
  let seed = "";
  let deviceName = "";
  const shownSecrets: string[] = [];
  const terminals: Terminal[] = [];

  const admin = (): string => controlPlane().kubeconfigPath;
  const aliceArgs = (args: readonly string[]): string[] => ["-n", ns.name, "--strip-username-prefixes", "oidc:", ...args];

  async function terminal(kubeconfig: string, args: readonly string[], env: Record<string, string> = {}): Promise<Terminal> {
    const started = await Terminal.start(kubeconfig, args, env);
    terminals.push(started);
    return started;
  }

  async function list<T>(plural: string): Promise<T[]> {
    return ((await ns.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace: ns.name })) as { items: T[] }).items;
  }

  const devicesOf = async (user: string): Promise<MfaDevice[]> => (await list<MfaDevice>("mfadevices")).filter((device) => device.spec.user === user);
  const sessionsOf = async (user: string): Promise<TemporaryCredential[]> =>
    (await list<TemporaryCredential>("temporarycredentials")).filter((session) => session.spec.user === user);
  const keysOf = async (user: string): Promise<AccessKey[]> =>
    (await list<AccessKey>("accesskeys")).filter((key) => key.spec.user === user && key.metadata.deletionTimestamp === undefined);

  const idOf = (key: { status?: { accessKeyId?: string } } | undefined): string => key?.status?.accessKeyId ?? "(none)";
  async function issued(object: { status?: { secretRef?: { name: string } } } | undefined): Promise<Record<string, string>> {
    const data = await readSecretData(ns, object?.status?.secretRef?.name ?? "");
    if (data === undefined) throw new Error("no issued Secret");
    return data;
  }

  function expectOneLineRefusal(run: PluginRun, text: string): void {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/error: [^\n]+\n$/);
    expect(run.stderr.split("\n").filter((line) => line.startsWith("error: "))).toHaveLength(1);
    expect(run.stderr).toContain(text);
  }

  beforeAll(async () => {
    op = await startTestOperator({ stripUsernamePrefixes: ["oidc:"] });
    alice = await certificateIdentity("oidc:alice");
    files = await mkdtemp(join(tmpdir(), "plugin-flows-"));
    const rbac = ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    const rules: k8s.V1PolicyRule[] = [
      { apiGroups: ["iam.keygate.dev"], resources: ["accesskeys", "mfadevices", "temporarycredentials"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
    ];
    await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: "alice" }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: "alice" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "alice" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "oidc:alice" }],
      },
    });
  });

  afterAll(async () => {
    for (const open of terminals) open.close();
    const logs = op.logs.text();
    for (const secret of [seed, ...shownSecrets].filter(Boolean)) expect(logs).not.toContain(secret);
    await op?.operator.stop();
  });

  describe("mfa add", () => {
    it("shows the seed's QR code in the terminal and as a 0600 PNG, takes two consecutive codes and binds the caller's device", async () => {
      const png = join(files, "alice-mfa.png");
      const tty = await terminal(alice.kubeconfigPath, aliceArgs(["mfa", "add", "--png", png]));
      const screen = await tty.waitForText("Code shown by the app:");
      const [device] = await devicesOf("alice");
      deviceName = device?.metadata.name ?? "";
      expect(deviceName).toMatch(/^alice-mfa-[a-z0-9]{5}$/);
      const uri = (await readSecretData(ns, `${deviceName}-credentials`))?.uri ?? "";
      expect(uri).toMatch(new RegExp(`^otpauth://totp/${ns.name}:alice\\?secret=[A-Z2-7]{32}&issuer=keygate`));
      expect(scanTerminal(screen)).toBe(uri);
      expect((await stat(png)).mode & 0o777).toBe(0o600);
      expect(scanPng(await readFile(png))).toBe(uri);
      seed = new URL(uri).searchParams.get("secret") ?? "";

      const now = Date.now();
      tty.type(codeAt(seed, now - 30_000));
      await tty.waitForText("Next code, once the app shows a new one:");
      tty.type(codeAt(seed, now));
      await tty.waitForText("is bound to user alice");
      expect(await tty.exitCode(), tty.screen()).toBe(0);
      expect(tty.screen()).toContain(`MFA device alice-phone (mfadevice/${deviceName}) is bound to user alice in namespace ${ns.name}.`);
      const [bound] = await devicesOf("alice");
      expect(bound?.status?.bound).toBe(true);
    });

    it("refuses a PNG file that exists, before creating anything", async () => {
      const png = join(files, "alice-mfa.png");
      const tty = await terminal(admin(), ["-n", ns.name, "mfa", "add", "bob", "--png", png]);
      expect(await tty.exitCode(), tty.screen()).toBe(1);
      expect(tty.screen()).toContain(`error: ${png} exists: refusing to overwrite it`);
      expect(await devicesOf("bob")).toHaveLength(0);
    });

    it("says in one line that wrong codes did not bind, and leaves no device behind", async () => {
      const tty = await terminal(admin(), ["-n", ns.name, "mfa", "add", "bob"]);
      await tty.waitForText("Code shown by the app:");
      tty.type("000000");
      await tty.waitForText("Next code");
      tty.type("111111");
      expect(await tty.exitCode(), tty.screen()).toBe(1);
      const errors = tty.screen().split("\n").filter((line) => line.startsWith("error: "));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: mfadevice\/bob-mfa-[a-z0-9]{5} was not bound \(BindingFailed\): .*; mfadevice\/bob-mfa-[a-z0-9]{5} was removed again; run mfa add once more$/);
      await waitFor("bob's unbound device to go", async () => ((await devicesOf("bob")).length === 0 ? true : undefined));
    });

    it("needs a terminal for the codes, and creates nothing without one", async () => {
      const run = await runPlugin(admin(), ["-n", ns.name, "mfa", "add", "bob"]);
      expectOneLineRefusal(run, "mfa add asks for two codes of the app: run it in a terminal");
      expect(await devicesOf("bob")).toHaveLength(0);
    });
    it("under operation protection, takes a code of the person acting for the create and asks for a later one to bind", async () => {
      const carol = await certificateIdentity("oidc:carol");
      const rbac = ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
      const rules: k8s.V1PolicyRule[] = [
        { apiGroups: [GROUP], resources: ["mfadevices"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
        { apiGroups: [GROUP], resources: ["accountpolicies"], verbs: ["get"] },
        { apiGroups: [GROUP], resources: ["users"], resourceNames: ["bob"], verbs: ["manage"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      ];
      await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: "carol" }, rules } });
      const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "carol" };
      await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: { metadata: { name: "carol" }, roleRef, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "oidc:carol" }] } });
      // Carol's phone, bound with codes of the two steps before now: the steps from now on stay hers to use.
      const mfaDevice = (name: string, user: string) => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name }, spec: { user, type: "Virtual", deviceName: name } });
      await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, body: mfaDevice("carol-phone", "carol") });
      const carolSeed = (await waitFor("carol's seed", () => readSecretData(ns, "carol-phone-credentials"))).seed ?? "";
      const step = Math.floor(Date.now() / 30_000);
      const carolCode = (at: number): string => generateSync({ secret: carolSeed, epoch: at * 30 });
      const verification = { code1: carolCode(step - 2), code2: carolCode(step - 1) };
      await ns.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, name: "carol-phone", body: { spec: { verification } } }, MERGE_PATCH);
      await waitFor("carol's phone to be bound", async () => ((await devicesOf("carol"))[0]?.status?.bound === true ? true : undefined));
      const policy = { apiVersion: `${GROUP}/${VERSION}`, kind: "AccountPolicy", metadata: { name: "default" }, spec: { operationProtection: true } };
      await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "accountpolicies", namespace: ns.name, body: policy });
      await waitFor("operation protection to reach the webhook", () =>
        carol.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, body: mfaDevice("probe", "bob"), dryRun: "All" }).then(
          () => undefined,
          (error: unknown) => (error instanceof k8s.ApiException && String(error.body).includes("operation protection is on") ? true : undefined),
        ),
      );

      try {
        const tty = await terminal(carol.kubeconfigPath, ["-n", ns.name, "mfa", "add", "bob", "--name", "bob-phone", "--mfa-code", carolCode(step)]);
        await tty.waitForText("Code shown by the app:");
        const bobSeed = (await readSecretData(ns, "bob-phone-credentials"))?.seed ?? "";
        const now = Date.now();
        tty.type(codeAt(bobSeed, now - 30_000));
        await tty.waitForText("Next code, once the app shows a new one:");
        tty.type(codeAt(bobSeed, now));
        await tty.waitForText("a new code of an MFA device you already have, not the one being added (empty for none):");
        tty.type(carolCode(step + 1));
        expect(await tty.exitCode(), tty.screen()).toBe(0);
        expect(tty.screen()).toContain(`MFA device bob-phone (mfadevice/bob-phone) is bound to user bob in namespace ${ns.name}.`);
        const [bound] = await devicesOf("bob");
        expect(bound?.metadata.annotations?.["iam.keygate.dev/created-by"]).toBe("oidc:carol");
        expect(Object.keys(bound?.metadata.annotations ?? {})).not.toContain("iam.keygate.dev/mfa-code");
      } finally {
        await ns.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "accountpolicies", namespace: ns.name, name: "default" });
        const confirm = { metadata: { annotations: { "iam.keygate.dev/confirm-delete": "YES" } } };
        await ns.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, name: "bob-phone", body: confirm }, MERGE_PATCH).catch(() => undefined);
        await ns.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: "mfadevices", namespace: ns.name, name: "bob-phone" }).catch(() => undefined);
      }
      await waitFor("bob's device to go", async () => ((await devicesOf("bob")).length === 0 ? true : undefined));
    });
  });

  describe("mfa list", () => {
    it("shows the caller's devices as a table: name, user, type, device, bound, age", async () => {
      const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["mfa", "list"]));
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^NAME\s+USER\s+TYPE\s+DEVICE\s+BOUND\s+AGE\n/);
      expect(run.stdout).toMatch(new RegExp(`${deviceName}\\s+alice\\s+Virtual\\s+alice-phone\\s+true\\s+\\d+s\\n$`));
      expect(run.stdout).not.toContain(seed);
    });
  });

  describe("session", () => {
    beforeAll(async () => {
      await ns.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: "accountpolicies",
        namespace: ns.name,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: "AccountPolicy", metadata: { name: "default" }, spec: { requireMfa: true } },
      });
    });

    it("passes on the webhook's refusal in one line when the account requires MFA and no code was given, creating nothing", async () => {
      await waitFor("the policy to reach the webhook", async () => {
        const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["session"]));
        return run.code === 1 ? run : undefined;
      }).then((run) => expectOneLineRefusal(run, "requires MFA for temporary credentials"));
      expect(await sessionsOf("alice")).toHaveLength(0);
    });

    it("refuses an unknown MFA device by name before creating anything", async () => {
      const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["session", "--mfa-device", "nope", "--mfa-code", "123456"]));
      expectOneLineRefusal(run, "user alice has no bound MFA device nope (bound: alice-phone); nothing changed");
      expect(await sessionsOf("alice")).toHaveLength(0);
    });

    it("says in one line that a wrong code was refused, and removes the refused session", async () => {
      const wrong = codeAt(seed, Date.now()) === "000000" ? "000001" : "000000";
      const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["session", "--mfa-code", wrong]));
      expectOneLineRefusal(run, "was not issued (MfaFailed)");
      await waitFor("the refused session to go", async () => ((await sessionsOf("alice")).length === 0 ? true : undefined));
    });

    it("gives a usage error for a duration outside 15m-24h", async () => {
      const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["session", "--duration", "25h"]));
      expect(run.code).toBe(2);
      expect(run.stderr).toBe("error: --duration must be from 15m to 24h, not 25h\n");
    });

    it("asks for a code of the bound device and prints the AWS export lines, the secret once", async () => {
      const tty = await terminal(alice.kubeconfigPath, aliceArgs(["session", "--duration", "30m", "--format", "aws"]));
      await tty.waitForText("MFA code of alice-phone (empty for a session without MFA):");
      // The binding used the current step; the next one is accepted too (one step of clock skew).
      tty.type(codeAt(seed, Date.now() + 30_000));
      expect(await tty.exitCode(), tty.screen()).toBe(0);
      const [credential] = await sessionsOf("alice");
      expect(credential?.status?.mfaAuthenticated).toBe(true);
      const data = await issued(credential);
      shownSecrets.push(data.secretAccessKey ?? "-", data.sessionToken ?? "-");
      const screen = tty.screen();
      expect(screen).toContain(`export AWS_ACCESS_KEY_ID=${idOf(credential)}\nexport AWS_SECRET_ACCESS_KEY=${data.secretAccessKey}\nexport AWS_SESSION_TOKEN=`);
      expect(occurrences(screen, data.secretAccessKey ?? "-")).toBe(1);
      expect(screen).toContain("30 minutes for user alice, MFA-authenticated");
      expect(screen).not.toContain("ALIBABA_CLOUD_");
    });

    it("writes a named profile into AWS_SHARED_CREDENTIALS_FILE, mode 0600, keeping the other profiles", async () => {
      const file = join(files, "credentials");
      await writeFile(file, "[default]\naws_access_key_id = MINE\n\n[keygate]\naws_access_key_id = OLD\n", { mode: 0o644 });
      const run = await runPlugin(admin(), ["-n", ns.name, "session", "bob", "--profile", "keygate"], { env: { AWS_SHARED_CREDENTIALS_FILE: file } });
      expect(run.code).toBe(0);
      const [credential] = await sessionsOf("bob");
      const { accessKeyId, secretAccessKey = "-", sessionToken } = await issued(credential);
      shownSecrets.push(secretAccessKey);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, "utf8")).toBe(
        `[default]\naws_access_key_id = MINE\n\n[keygate]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\naws_session_token = ${sessionToken}\n`,
      );
      expect(run.stdout).toContain(`Profile keygate written to ${file} (mode 0600).`);
      expect(run.stdout + run.stderr).not.toContain(secretAccessKey);
    });

    it("prints every cloud's variables by default", async () => {
      const run = await runPlugin(admin(), ["-n", ns.name, "session", "bob"]);
      expect(run.code).toBe(0);
      const names = run.stdout.split("\n").filter(Boolean).map((line) => /^export ([A-Z_]+)=/.exec(line)?.[1]);
      expect(names).toEqual([
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
      ]);
    });
  });

  describe("mfa remove", () => {
    it("refuses an unknown device in one line", async () => {
      const run = await runPlugin(alice.kubeconfigPath, aliceArgs(["mfa", "remove", "nope", "--yes"]));
      expectOneLineRefusal(run, `mfadevice nope not found in namespace ${ns.name}; nothing changed`);
    });

    it("keeps the device unless YES is typed", async () => {
      const tty = await terminal(alice.kubeconfigPath, aliceArgs(["mfa", "remove", deviceName]));
      await tty.waitForText("Type YES to confirm:");
      tty.type("yes");
      expect(await tty.exitCode(), tty.screen()).toBe(1);
      expect(tty.screen()).toContain(`error: removing mfadevice/${deviceName}: confirmation "yes" does not match YES; nothing changed`);
      expect(await devicesOf("alice")).toHaveLength(1);
    });

    it("unbinds the device once YES is typed", async () => {
      const tty = await terminal(alice.kubeconfigPath, aliceArgs(["mfa", "remove", deviceName]));
      await tty.waitForText("Type YES to confirm:");
      expect(tty.screen()).toContain("is bound: removing it unbinds it");
      tty.type("YES");
      expect(await tty.exitCode(), tty.screen()).toBe(0);
      expect(tty.screen()).toContain(`mfadevice/${deviceName} removed: user alice no longer has MFA device alice-phone.`);
      await waitFor("alice's device to go", async () => ((await devicesOf("alice")).length === 0 ? true : undefined));
    });
  });

  describe("rotate", () => {
    let oldKey: AccessKey | undefined;

    it("creates the new key, shows it once, waits for quiet, deactivates the old key, and keeps it when the id typed is wrong", async () => {
      expect((await runPlugin(admin(), ["-n", ns.name, "create-key", "carol"])).code).toBe(0);
      [oldKey] = await keysOf("carol");
      const oldName = oldKey?.metadata.name;
      const oldId = idOf(oldKey);
      shownSecrets.push((await issued(oldKey)).secretAccessKey ?? "-");
      const tty = await terminal(admin(), ["-n", ns.name, "rotate", "carol", "--quiet-for", "3s"]);
      await tty.waitForText(`Type ${oldId} to confirm:`);
      const fresh = (await keysOf("carol")).find((key) => key.metadata.name !== oldName);
      const secret = (await issued(fresh)).secretAccessKey ?? "-";
      shownSecrets.push(secret);
      const screen = tty.screen();
      expect(occurrences(screen, secret)).toBe(1);
      expect(screen).toContain(`Access key ID       ${idOf(fresh)}`);
      expect(screen).toMatch(new RegExp(`Step 2/4: ${oldId} was last used at .* for it to stay unused for 3s`));
      expect(screen).toContain(`Step 3/4: deactivating ${oldId}`);
      tty.type("not-the-id");
      expect(await tty.exitCode(), tty.screen()).toBe(1);
      expect(tty.screen()).toContain("nothing changed");
      const keys = await keysOf("carol");
      expect(keys).toHaveLength(2);
      expect(keys.find((key) => key.metadata.name === oldName)?.spec.state).toBe("Inactive");
      expect(fresh?.metadata.annotations?.[ROTATING_FROM_ANNOTATION]).toBe(oldName);
    });

    it("continues where it stopped when run again: deletes the old key once its id is typed, without a new key or secret", async () => {
      const oldId = idOf(oldKey);
      const tty = await terminal(admin(), ["-n", ns.name, "rotate", "carol"]);
      await tty.waitForText(`Type ${oldId} to confirm:`);
      expect(tty.screen()).not.toContain("Step 1/4");
      for (const secret of shownSecrets) expect(tty.screen()).not.toContain(secret);
      tty.type(oldId);
      expect(await tty.exitCode(), tty.screen()).toBe(0);
      const [fresh] = await waitFor("the old key to go", async () => {
        const keys = await keysOf("carol");
        return keys.length === 1 ? keys : undefined;
      });
      expect(fresh?.metadata.name).not.toBe(oldKey?.metadata.name);
      expect(fresh?.metadata.annotations?.[ROTATING_FROM_ANNOTATION]).toBeUndefined();
      expect(tty.screen()).toContain(`Rotation done: user carol's key is now ${idOf(fresh)}`);
    });

    it("refuses when the user already has two keys, naming both and the one to remove, and changes nothing", async () => {
      expect((await runPlugin(admin(), ["-n", ns.name, "create-key", "carol", "--download", "env", join(files, "carol.env")])).code).toBe(0);
      const before = await keysOf("carol");
      const run = await runPlugin(admin(), ["-n", ns.name, "rotate", "carol", "--force", "--yes"]);
      expectOneLineRefusal(run, "user carol already has two access keys");
      for (const key of before) expect(run.stderr).toContain(idOf(key));
      expect(run.stderr).toMatch(/: remove KGAK[A-Z2-7]{16} first \(kubectl keygate delete /);
      expect((await keysOf("carol")).map((key) => key.metadata.name).sort()).toEqual(before.map((key) => key.metadata.name).sort());
    });
  });
});
