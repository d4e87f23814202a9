import { createPrivateKey, createPublicKey } from "node:crypto";
import { createServer } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { cose, decodeCredentialPublicKey, isoBase64URL } from "@simplewebauthn/server/helpers";
import { generateSync } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MfaDevice } from "../../src/api/mfadevice.js";
import { loadOrCreateKek } from "../../src/keystore/kek.js";
import { mfaRecordName, openSecurityKey, secretToMfaRecord } from "../../src/keystore/mfa-record.js";
import { MfaRecordStore } from "../../src/keystore/mfa-store.js";
import { apply, eventReasons, GROUP, readSecretData, VERSION } from "../support/accesskeys.js";
import { launchChromium, type RunningBrowser, type VirtualCredential, VirtualSecurityKey } from "../support/browser.js";
import { controlPlane, kubectl, useNamespace } from "../support/cluster.js";
import { serviceAccountIdentity } from "../support/identities.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { Terminal } from "../support/plugin.js";
import { waitFor } from "../support/wait.js";

const PLURAL = "mfadevices";

function securityKey(name: string, user: string): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name }, spec: { user, type: "SecurityKey", deviceName: `${name}-key` } };
}

function readyOf(device: MfaDevice | undefined): { status: string; reason: string; message: string } | undefined {
  return device?.status?.conditions?.find((condition) => condition.type === "Ready");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

// The public key as the authenticator holds it, from the private key CDP shows: its x (and y,
// for an EC2 key; an Ed25519 key has x only), in every encoding a leak could take.
function publicCoordinates(privateKeyBase64: string): string[] {
  const jwk = createPublicKey(createPrivateKey({ key: Buffer.from(privateKeyBase64, "base64"), format: "der", type: "pkcs8" })).export({ format: "jwk" });
  const coordinates = [jwk.x, jwk.y].filter((coordinate): coordinate is string => coordinate !== undefined);
  expect(coordinates.length).toBeGreaterThan(0);
  return coordinates.flatMap((coordinate) => {
    const raw = Buffer.from(coordinate, "base64url");
    return [raw.toString("base64url"), raw.toString("base64"), raw.toString("hex")];
  });
}

// The x coordinate of a COSE public key (EC2 or OKP), base64url.
function coseX(publicKeyBase64url: string): string | undefined {
  const publicKey = decodeCredentialPublicKey(isoBase64URL.toBuffer(publicKeyBase64url));
  const x = cose.isCOSEPublicKeyOKP(publicKey) || cose.isCOSEPublicKeyEC2(publicKey) ? publicKey.get(cose.COSEKEYS.x) : undefined;
  return x && isoBase64URL.fromBuffer(x);
}

describe("security keys registered through kubectl keygate mfa add-key's page, in a real browser", () => {
  const ns = useNamespace("security-keys");
  let op: TestOperator;
  let chromium: RunningBrowser;
  let allowedPort = 0;
  const terminals: Terminal[] = [];
  const authenticators: VirtualSecurityKey[] = [];

  beforeAll(async () => {
    allowedPort = await freePort();
    op = await startTestOperator({ relyingParty: { id: "localhost", name: "keygate", origins: [`http://localhost:${allowedPort}`] } });
    chromium = await launchChromium();
  });

  afterAll(async () => {
    for (const terminal of terminals) terminal.close();
    await chromium?.close();
    await op?.operator.stop();
  });

  async function read(name: string): Promise<MfaDevice | undefined> {
    try {
      return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name })) as MfaDevice;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async function list(user: string): Promise<MfaDevice[]> {
    const found = (await ns.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL })) as { items: MfaDevice[] };
    return found.items.filter((device) => device.spec.user === user);
  }

  function reason(name: string, expected: string): Promise<MfaDevice> {
    return waitFor(`MfaDevice ${name} to report ${expected}`, async () => {
      const found = await read(name);
      return readyOf(found)?.reason === expected && found?.status?.observedGeneration === found?.metadata.generation ? found : undefined;
    });
  }

  // The record names the credential; its public key is sealed: nowhere in the Secret in any
  // encoding, yet the KEK opens it to the authenticator's own key.
  async function expectSealedRecord(device: MfaDevice, credential: VirtualCredential): Promise<void> {
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const stored = await core.readNamespacedSecret({ namespace: op.namespace, name: mfaRecordName(device.metadata.uid ?? "") });
    const record = secretToMfaRecord(stored);
    if (!record) throw new Error("the keystore record does not parse");
    expect(record).toMatchObject({ deviceType: "SecurityKey", bound: true, credentialId: device.status?.credentialId, rpId: "localhost" });
    expect(record.registration).toBeUndefined();
    const coordinates = publicCoordinates(credential.privateKey);
    const everything = JSON.stringify(stored) + Buffer.from(stored.data?.sealed ?? "", "base64").toString("utf8");
    for (const coordinate of coordinates) expect(everything).not.toContain(coordinate);
    const opened = openSecurityKey(await loadOrCreateKek(core, op.namespace), record);
    expect(opened.userId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(coseX(opened.publicKey ?? "")).toBe(coordinates[0]);
  }

  /** Runs mfa add-key in a terminal, opens the page it prints with a key plugged in, presses the button; the page's last words. */
  async function addKey(args: readonly string[], residentKey: boolean): Promise<{ terminal: Terminal; key: VirtualSecurityKey; shown: string }> {
    const terminal = await Terminal.start(controlPlane().kubeconfigPath, ["-n", ns.name, "mfa", "add-key", "alice", ...args]);
    terminals.push(terminal);
    const screen = await terminal.waitForText("in a browser on this machine", 60_000);
    const url = /Open (http:\/\/localhost:\d+\/[\w-]{43}\/) /.exec(screen)?.[1] ?? "";
    const key = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey }, url);
    authenticators.push(key);
    await key.page.click("#register");
    await key.page.waitForSelector("#result.ok, #result.refused", { timeout: 60_000 });
    const shown = String(await key.page.evaluate(`document.getElementById("result").textContent`));
    return { terminal, key, shown };
  }

  it.each([
    ["resident", true],
    ["nonresident", false],
  ] as const)("registers a %s-key CTAP2 authenticator through the page: Bound, its credential in status, sealed in the keystore", async (name, residentKey) => {
    const { terminal, key, shown } = await addKey(["--name", name, "--device-name", `alice-${name}`, "--port", String(allowedPort)], residentKey);
    const line = `Security key alice-${name} (mfadevice/${name}) is registered to user alice in namespace ${ns.name}.`;
    expect(shown).toContain(line);
    expect(await terminal.exitCode()).toBe(0);
    expect(terminal.screen()).toContain(line);

    const device = await reason(name, "Bound");
    expect(readyOf(device)?.status).toBe("True");
    expect(device.status?.bound).toBe(true);
    expect(device.status?.registration).toBeUndefined();
    const [credential] = await key.credentials();
    if (!credential) throw new Error("the authenticator holds no credential");
    expect(credential.isResidentCredential).toBe(residentKey);
    expect(device.status?.credentialId).toBe(Buffer.from(credential.credentialId, "base64").toString("base64url"));
    // The terminal names the registered credential; the page, the one the touched key made.
    expect(terminal.screen()).toContain(`Registered credential: ${device.status?.credentialId}.`);
    expect(shown).toContain(`The key you touched made credential ${device.status?.credentialId}:`);

    await expectSealedRecord(device, credential);
    expect(await eventReasons(ns, name)).toContain("Bound");
  });

  // An older keygate lists `keystore.keygate.dev/kind=mfa-device` records and opens each as a
  // TOTP seed: a key's record must never be among them, yet the user's bound devices hold it.
  it("keeps registered keys' records out of the mfa-device records an older keygate lists", async () => {
    const keys = await Promise.all(["resident", "nonresident"].map(async (name) => mfaRecordName((await read(name))?.metadata.uid ?? "")));
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const seedRecords = await core.listNamespacedSecret({ namespace: op.namespace, labelSelector: "keystore.keygate.dev/kind=mfa-device" });
    const listed = seedRecords.items.map((secret) => secret.metadata?.name);
    for (const name of keys) expect(listed).not.toContain(name);
    const bound = await new MfaRecordStore(core, op.namespace).bound(ns.name, "alice");
    expect(bound.map((record) => mfaRecordName(record.ownerUid)).sort()).toEqual([...keys].sort());
    expect(bound.every((record) => record.deviceType === "SecurityKey")).toBe(true);
  });

  it("refuses a ninth key at admission, naming the eight and the rule", async () => {
    await apply(ns, Array.from({ length: 6 }, (_, index) => securityKey(`spare-${index + 1}`, "alice")));
    // Reconciled means seen by the operator's cache, which the webhook counts from.
    await waitFor("the spare keys to be reconciled", async () => ((await list("alice")).filter((device) => readyOf(device) !== undefined).length === 8 ? true : undefined));
    const refused = await apply(ns, [securityKey("ninth", "alice")]).then(
      () => "",
      (error: unknown) => String(error),
    );
    expect(refused).toContain(`user alice already has 8 security keys (`);
    expect(refused).toContain(`in namespace ${ns.name}; at most 8 per user. Delete one first to register another.`);
    for (const name of ["resident", "nonresident", "spare-1", "spare-6"]) expect(refused).toContain(name);
    await kubectl(["delete", "mfadevice", "-n", ns.name, ...Array.from({ length: 6 }, (_, index) => `spare-${index + 1}`), "--timeout=60s"]);
  });

  it("lets exactly eight of ten keys created at once proceed: the youngest get DeviceLimitExceeded", async () => {
    const names = Array.from({ length: 10 }, (_, index) => `burst-${String(index).padStart(2, "0")}`);
    const created = await Promise.allSettled(
      names.map((name) => ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, body: securityKey(name, "bob") })),
    );
    const admitted = created.filter((result) => result.status === "fulfilled").length;
    expect(admitted).toBeGreaterThanOrEqual(8);
    const settled = await waitFor("every admitted key to settle, eight with a ceremony", async () => {
      const devices = await list("bob");
      const reasons = devices.map((device) => readyOf(device)?.reason);
      const pending = devices.filter((device) => device.status?.registration !== undefined);
      const exceeded = reasons.filter((reason) => reason === "DeviceLimitExceeded").length;
      return devices.length === admitted && pending.length === 8 && exceeded === admitted - 8 ? devices : undefined;
    });
    const byAge = [...settled].sort((a, b) =>
      (a.metadata.creationTimestamp ?? "") === (b.metadata.creationTimestamp ?? "")
        ? (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
        : (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
    );
    expect(byAge.slice(0, 8).map((device) => readyOf(device)?.reason)).toEqual(Array(8).fill("Pending"));
    for (const extra of byAge.slice(8)) {
      expect(readyOf(extra)?.message).toContain("user bob already has 8 security keys");
      expect(extra.status?.registration).toBeUndefined();
    }
  });

  it("refuses a registration made on a page of a localhost port the relying party does not allow, and removes the key", async () => {
    const { terminal, shown } = await addKey(["--name", "elsewhere", "--port", String(await freePort())], false);
    expect(shown).toMatch(/was not registered \(RegistrationFailed\): OriginNotAllowed: origin "http:\/\/localhost:\d+" is not one keygate accepts/);
    expect(await terminal.exitCode()).toBe(1);
    const errors = terminal.screen().split("\n").filter((line) => line.startsWith("error: "));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^error: mfadevice\/elsewhere was not registered \(RegistrationFailed\): OriginNotAllowed: .*; mfadevice\/elsewhere was removed again; run mfa add-key once more$/,
    );
    await waitFor("the refused key to be gone", async () => ((await read("elsewhere")) === undefined ? true : undefined));
    expect(await eventReasons(ns, "elsewhere")).toContain("RegistrationFailed");
  });

  it("under operation protection, registers a key as its person with a code for the create and a later one for the answer", async () => {
    const alice = await serviceAccountIdentity(ns.name, "alice");
    const rbac = ns.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    const rules = [
      { apiGroups: [GROUP], resources: [PLURAL], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: [GROUP], resources: ["accountpolicies"], verbs: ["get"] },
    ];
    await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: "alice-mfa" }, rules } });
    const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "alice-mfa" };
    await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: { metadata: { name: "alice-mfa" }, roleRef, subjects: [{ kind: "ServiceAccount", name: "alice", namespace: ns.name }] } });
    // Alice's phone, bound with codes of the two steps before now: the steps from now on stay free.
    await apply(ns, [{ apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name: "phone" }, spec: { user: "alice", type: "Virtual", deviceName: "alice-phone" } }]);
    const seed = (await waitFor("the phone's seed", () => readSecretData(ns, "phone-credentials"))).seed ?? "";
    const code = (step: number): string => generateSync({ secret: seed, epoch: step * 30 });
    const now = Math.floor(op.clock.now() / 30_000);
    await kubectl(["patch", "mfadevice", "phone", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification: { code1: code(now - 2), code2: code(now - 1) } } })]);
    await reason("phone", "Bound");
    const policy = (operationProtection: boolean) => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "AccountPolicy", metadata: { name: "default" }, spec: { operationProtection } });
    await apply(ns, [policy(true)]);
    await waitFor("operation protection to reach the webhook", () =>
      alice.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, body: securityKey("probe", "alice"), dryRun: "All" }).then(
        () => undefined,
        (error: unknown) => (error instanceof k8s.ApiException && String(error.body).includes("operation protection is on") ? true : undefined),
      ),
    );

    const terminal = await Terminal.start(alice.kubeconfigPath, ["-n", ns.name, "mfa", "add-key", "alice", "--name", "protected", "--port", String(allowedPort), "--mfa-code", code(now)]);
    terminals.push(terminal);
    const url = /Open (http:\/\/localhost:\d+\/[\w-]{43}\/) /.exec(await terminal.waitForText("in a browser on this machine", 60_000))?.[1] ?? "";
    const key = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey: false }, url);
    authenticators.push(key);
    await key.page.click("#register");
    await terminal.waitForText("Operation protection is on in", 60_000);
    expect(terminal.screen()).toContain("a new code of an MFA device you already have, not the one being added (empty for none):");
    terminal.type(code(now + 1));
    await key.page.waitForSelector("#result.ok", { timeout: 60_000 });
    expect(await terminal.exitCode()).toBe(0);
    const device = await reason("protected", "Bound");
    expect(device.metadata.annotations?.["iam.keygate.dev/created-by"]).toBe(`system:serviceaccount:${ns.name}:alice`);
    expect(Object.keys(device.metadata.annotations ?? {})).not.toContain("iam.keygate.dev/mfa-code");
    await apply(ns, [policy(false)]);
  });

  it("refuses a registration replayed onto another device", async () => {
    const registered = await read("resident");
    await apply(ns, [securityKey("replay", "alice")]);
    await waitFor("the challenge of the new key", async () => (await read("replay"))?.status?.registration);
    const patch = JSON.stringify({ spec: { registration: registered?.spec.registration } });
    await kubectl(["patch", "mfadevice", "replay", "-n", ns.name, "--type=merge", "-p", patch]);
    const refused = await reason("replay", "RegistrationFailed");
    expect(readyOf(refused)?.message).toMatch(/^ChallengeMismatch: /);
    expect(refused.status?.bound).toBe(false);
    expect(refused.status?.failedAttempts).toBe(1);
  });

  it("renews a challenge that ran out unanswered", async () => {
    const before = (await read("replay"))?.status?.registration;
    op.advance(6 * 60_000);
    // The operator looks again at the expiry by its own timer; a change wakes it sooner.
    await kubectl(["annotate", "mfadevice", "replay", "-n", ns.name, "example.com/nudge=1"]);
    const renewed = await waitFor("a new challenge", async () => {
      const registration = (await read("replay"))?.status?.registration;
      return registration && registration.challenge !== before?.challenge ? registration : undefined;
    });
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(before?.expiresAt ?? ""));
  });

  it("shows a key the verifier flagged as cloned from its keystore record: Ready=False CloneSuspected", async () => {
    const device = await read("nonresident");
    const records = new MfaRecordStore(ns.kc.makeApiClient(k8s.CoreV1Api), op.namespace);
    const record = await records.get(device?.metadata.uid ?? "");
    if (!record) throw new Error("no record");
    const flaggedAt = new Date().toISOString();
    // What the verifier writes when a counter goes back, then the status patch that wakes the operator.
    await records.update({ ...record, cloneSuspectedAt: flaggedAt });
    await kubectl(["patch", "mfadevice", "nonresident", "-n", ns.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { cloneSuspectedAt: flaggedAt } })]);
    const flagged = await reason("nonresident", "CloneSuspected");
    expect(readyOf(flagged)?.status).toBe("False");
    expect(flagged.status?.cloneSuspectedAt).toBe(flaggedAt);
    expect(flagged.status?.bound).toBe(true);
    await waitFor("the CloneSuspected event", async () => ((await eventReasons(ns, "nonresident")).includes("CloneSuspected") ? true : undefined));
  });

  it("unbinds a registered key only once the deletion is confirmed with YES: its keystore record is gone", async () => {
    const uid = (await read("resident"))?.metadata.uid ?? "";
    const unconfirmed = await kubectl(["delete", "mfadevice", "resident", "-n", ns.name, "--timeout=60s"]).catch((error: unknown) => String(error));
    expect(unconfirmed).toContain(`To confirm, type: kubectl annotate mfadevice resident -n ${ns.name} iam.keygate.dev/confirm-delete=YES`);
    expect((await read("resident"))?.status?.bound).toBe(true);
    await kubectl(["annotate", "mfadevice", "resident", "-n", ns.name, "iam.keygate.dev/confirm-delete=YES"]);
    await kubectl(["delete", "mfadevice", "resident", "-n", ns.name, "--timeout=60s"]);
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const gone = await core.readNamespacedSecret({ namespace: op.namespace, name: mfaRecordName(uid) }).then(
      () => false,
      (error: unknown) => error instanceof k8s.ApiException && error.code === 404,
    );
    expect(gone).toBe(true);
  });
});
