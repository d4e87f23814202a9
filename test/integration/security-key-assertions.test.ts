import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthenticationResponse } from "../../src/api/webauthn.js";
import type { RelyingParty } from "../../src/webauthn/relying-party.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, manifest, readSecretData, waitForReason } from "../support/accesskeys.js";
import { type BlankSite, launchChromium, type RunningBrowser, serveBlankSite, VirtualSecurityKey } from "../support/browser.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { type HttpAnswer, httpSend, postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const GROUP = "iam.keygate.dev";
const VERSION = "v1alpha1";

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

interface DeviceObject {
  status?: { bound?: boolean; credentialId?: string; cloneSuspectedAt?: string; registration?: { options: string }; conditions?: Condition[] };
}

interface SessionObject {
  status?: { mfaAuthenticated?: boolean; conditions?: Condition[] };
}

type RequestOptions = Record<string, unknown> & { challenge: string; allowCredentials?: Array<{ id: string; type: string }> };

const ready = (conditions: Condition[] | undefined): Condition | undefined => conditions?.find((condition) => condition.type === "Ready");

// Security keys registered through the API and a real browser, then checked by two verifier
// replicas that share nothing but the API server (each its own memory, its own KEK cache).
describe("security-key assertions across verifier replicas, with Chromium's virtual authenticators", () => {
  const ns = useNamespace("skey");
  let op: TestOperator;
  let chromium: RunningBrowser;
  // The page ceremonies run on, the only origin the verifiers accept; and another localhost page.
  let site: BlankSite;
  let elsewhere: BlankSite;
  let replicas: RunningVerifier[] = [];
  // Two access keys of the namespace: the caller, and another service of the same account.
  let caller = { id: "", secret: "" };
  let otherCaller = { id: "", secret: "" };
  const keys: Record<string, VirtualSecurityKey> = {};
  const credentials: Record<string, string> = {};
  // Whatever a log must never hold: challenges, client data, signatures.
  const sensitive: string[] = [];

  beforeAll(async () => {
    chromium = await launchChromium();
    site = await serveBlankSite();
    elsewhere = await serveBlankSite();
    op = await startTestOperator();
    const relyingParty: RelyingParty = { id: "localhost", name: "keygate", origins: [site.origin] };
    replicas = [await startTestVerifier(op.namespace, { log: op.log, relyingParty }), await startTestVerifier(op.namespace, { log: op.log, relyingParty })];
    await apply(ns, [manifest("mfa-caller", { user: "frontend" }), manifest("mfa-other-caller", { user: "backend" })]);
    await waitForReason(ns, "mfa-caller", "Issued");
    await waitForReason(ns, "mfa-other-caller", "Issued");
    const data = (await readSecretData(ns, "mfa-caller-credentials")) ?? {};
    caller = { id: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "" };
    const other = (await readSecretData(ns, "mfa-other-caller-credentials")) ?? {};
    otherCaller = { id: other.accessKeyId ?? "", secret: other.secretAccessKey ?? "" };
  }, 120_000);

  afterAll(async () => {
    const logs = op?.logs.text() ?? "";
    for (const value of sensitive) expect(logs).not.toContain(value);
    for (const replica of replicas) await replica.stop();
    await op?.operator.stop();
    await chromium?.close();
    await site?.stop();
    await elsewhere?.stop();
  });

  // What an in-cluster service does: a POST signed by the official AWS SDK signer, body included.
  async function call(replica: RunningVerifier, path: string, body: object, as = caller): Promise<HttpAnswer> {
    const host = new URL(replica.url).host;
    const payload = JSON.stringify(body);
    const signer = new SignatureV4({ credentials: { accessKeyId: as.id, secretAccessKey: as.secret }, region: "local", service: "keygate", sha256: Hash.bind(null, "sha256") });
    const request = new HttpRequest({ method: "POST", hostname: host, path, headers: { host, "content-type": "application/json" }, body: payload });
    const signed = await signer.sign(request);
    return httpSend(replica.url, { method: "POST", target: path, headers: Object.entries<string>(signed.headers), body: Buffer.from(payload) });
  }

  async function challenge(replica: RunningVerifier, user: string, purpose: "verify" | "session" = "verify", as = caller): Promise<RequestOptions> {
    const answer = await call(replica, "/v1/mfa/challenge", { namespace: ns.name, user, purpose }, as);
    expect(answer.status).toBe(200);
    const options = answer.json as RequestOptions;
    sensitive.push(options.challenge);
    return options;
  }

  async function assertWith(key: VirtualSecurityKey, options: RequestOptions): Promise<AuthenticationResponse> {
    const assertion = await key.get(options);
    sensitive.push(assertion.response.clientDataJSON, assertion.response.signature);
    return assertion;
  }

  function verify(replica: RunningVerifier, user: string, assertion: AuthenticationResponse, as = caller): Promise<HttpAnswer> {
    return call(replica, "/v1/mfa/verify", { namespace: ns.name, user, assertion }, as);
  }

  async function readSession(name: string): Promise<SessionObject> {
    return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: "temporarycredentials", name })) as SessionObject;
  }

  function session(name: string, assertion: AuthenticationResponse): Record<string, unknown> {
    return { apiVersion: `${GROUP}/${VERSION}`, kind: "TemporaryCredential", metadata: { name }, spec: { user: "alice", mfa: { assertion } } };
  }

  async function sessionReady(name: string, reason: string): Promise<Condition> {
    return waitFor(`session ${name} to be ${reason}`, async () => {
      const condition = ready((await readSession(name)).status?.conditions);
      return condition?.reason === reason ? condition : undefined;
    });
  }

  async function device(name: string): Promise<DeviceObject> {
    return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: "mfadevices", name })) as DeviceObject;
  }

  // As a person does it with the API: create the device, run its ceremony in the browser, hand the answer back.
  async function register(name: string, user: string, residentKey: boolean): Promise<void> {
    const key = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey }, site.origin);
    await apply(ns, [{ apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name }, spec: { user, type: "SecurityKey", deviceName: name } }]);
    const pending = await waitFor(`${name}'s registration challenge`, async () => (await device(name)).status?.registration);
    const registration = await key.create(pending.options);
    await kubectl(["patch", "mfadevice", name, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { registration } })]);
    const registered = await waitFor(`${name} to be registered`, async () => {
      const status = (await device(name)).status;
      return status?.bound === true && ready(status.conditions)?.status === "True" ? status : undefined;
    });
    expect(registered.credentialId).toBe(registration.id);
    keys[name] = key;
    credentials[name] = registration.id;
  }

  it("registers a resident key and a non-resident one through the API and the browser", async () => {
    await register("alice-key", "alice", true);
    await register("bob-key", "bob", false);
    await register("carol-key", "carol", true);
  }, 120_000);

  it("verifies at one replica an assertion answering a challenge from the other, naming the device", async () => {
    const [first, second] = replicas;
    if (!first || !second) throw new Error("two replicas");
    const options = await challenge(first, "alice");
    expect(options).toMatchObject({ rpId: "localhost", allowCredentials: [{ id: credentials["alice-key"], type: "public-key" }] });
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, options);
    const answer = await verify(second, "alice", assertion);
    expect([answer.status, answer.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
    for (const replica of replicas) {
      const replayed = await verify(replica, "alice", assertion);
      expect([replayed.status, replayed.json.valid, replayed.json.code]).toEqual([200, false, "ChallengeUsed"]);
    }
  });

  it("refuses an assertion by an authenticator no key of the user was registered from", async () => {
    const stranger = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey: true }, site.origin);
    const own = await stranger.create(
      JSON.stringify({
        rp: { id: "localhost", name: "elsewhere" },
        user: { id: "c3RyYW5nZXI", name: "alice", displayName: "alice" },
        challenge: "cmFuZG9tLWNoYWxsZW5nZS1ieXRlcw",
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
      }),
    );
    const options = await challenge(replicas[0] as RunningVerifier, "alice");
    const assertion = await assertWith(stranger, { ...options, allowCredentials: [{ id: own.id, type: "public-key" }] });
    const answer = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([answer.status, answer.json.valid, answer.json.code]).toEqual([200, false, "UnknownCredential"]);
    await stranger.unplug();
  });

  it("refuses an assertion made on a page at an origin the verifiers do not accept", async () => {
    const key = keys["alice-key"] as VirtualSecurityKey;
    await key.goto(elsewhere.origin);
    const assertion = await assertWith(key, await challenge(replicas[0] as RunningVerifier, "alice"));
    await key.goto(site.origin);
    const answer = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([answer.status, answer.json.code]).toEqual([200, "OriginNotAllowed"]);
    expect(answer.json.message).toContain(elsewhere.origin);
  });

  it("refuses an assertion answering a challenge issued for another user", async () => {
    const forBob = await challenge(replicas[0] as RunningVerifier, "bob");
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, { ...forBob, allowCredentials: [{ id: credentials["alice-key"] ?? "", type: "public-key" }] });
    const answer = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([answer.status, answer.json.code]).toEqual([200, "ChallengeMismatch"]);
  });

  it("refuses a resident key's assertion whose user handle was changed, using nothing up: the handle is not under the signature", async () => {
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, await challenge(replicas[0] as RunningVerifier, "alice"));
    expect(assertion.response.userHandle).toBeDefined();
    const handle = { ...assertion, response: { ...assertion.response, userHandle: "YW5vdGhlci11c2Vy" } };
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await verify(replicas[attempt % 2] as RunningVerifier, "alice", handle);
      expect([answer.status, answer.json.code]).toEqual([200, "UnknownCredential"]);
    }
    // Neither the challenge nor the lockout moved: the assertion as the browser gave it still holds.
    const answer = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([answer.status, answer.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
  });

  it("accepts two assertions to two pending challenges judged in the order they were made", async () => {
    const key = keys["alice-key"] as VirtualSecurityKey;
    const [first, second] = replicas as [RunningVerifier, RunningVerifier];
    const earlier = await assertWith(key, await challenge(first, "alice"));
    const later = await assertWith(key, await challenge(second, "alice"));
    for (const [replica, assertion] of [[second, earlier], [first, later]] as const) {
      const answer = await verify(replica, "alice", assertion);
      expect([answer.status, answer.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
    }
  });

  it("judged in reverse order, accepts the later, refuses the earlier as StaleAssertion, and flags nothing", async () => {
    const key = keys["alice-key"] as VirtualSecurityKey;
    const [first, second] = replicas as [RunningVerifier, RunningVerifier];
    const earlier = await assertWith(key, await challenge(first, "alice"));
    const later = await assertWith(key, await challenge(second, "alice"));
    const accepted = await verify(first, "alice", later);
    expect([accepted.status, accepted.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
    const stale = await verify(second, "alice", earlier);
    expect([stale.status, stale.json.code]).toEqual([200, "StaleAssertion"]);
    expect((await device("alice-key")).status?.cloneSuspectedAt).toBeUndefined();
    const again = await verify(second, "alice", await assertWith(key, await challenge(first, "alice")));
    expect(again.json).toEqual({ valid: true, deviceName: "alice-key" });
  });

  it("refuses a verify challenge asked for by one key of the namespace to another, and the asking key may still redeem it", async () => {
    const [first, second] = replicas as [RunningVerifier, RunningVerifier];
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, await challenge(first, "alice"));
    const raced = await verify(second, "alice", assertion, otherCaller);
    expect([raced.status, raced.json.valid, raced.json.code]).toEqual([200, false, "ChallengeMismatch"]);
    expect(raced.json.message).toContain("another access key");
    const own = await verify(first, "alice", assertion);
    expect([own.status, own.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
  });

  it("refuses at /v1/mfa/verify an assertion answering a session challenge", async () => {
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, await challenge(replicas[0] as RunningVerifier, "alice", "session"));
    const answer = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([answer.status, answer.json.code]).toEqual([200, "ChallengeMismatch"]);
    expect(answer.json.message).toContain("purpose session, not verify");
  });

  it("answers a challenge for a user without a security key with 404 MfaDeviceNotFound", async () => {
    const answer = await call(replicas[0] as RunningVerifier, "/v1/mfa/challenge", { namespace: ns.name, user: "nobody" });
    expect([answer.status, answer.json.code]).toEqual([404, "MfaDeviceNotFound"]);
  });

  it("flags a cloned key: CounterNotIncreased, CloneSuspected on the device, AuthenticatorCloned after", async () => {
    const key = keys["bob-key"] as VirtualSecurityKey;
    const [first, second] = replicas as [RunningVerifier, RunningVerifier];
    // Two holders of one private key: a second authenticator gets a copy of the credential.
    const clone = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey: false }, site.origin);
    for (const credential of await key.credentials()) await clone.addCredential(credential);
    for (const replica of replicas) {
      const answer = await verify(replica, "bob", await assertWith(key, await challenge(first, "bob")));
      expect(answer.json).toEqual({ valid: true, deviceName: "bob-key" });
    }
    const spare = await challenge(second, "bob");
    // The clone answers a challenge newer than the last accepted one, its counter behind the original's.
    const cloned = await verify(second, "bob", await assertWith(clone, await challenge(first, "bob")));
    expect([cloned.status, cloned.json.code]).toEqual([200, "CounterNotIncreased"]);
    const scraped = await httpSend(second.url, { method: "GET", target: "/metrics", headers: [["Host", "v"]] });
    expect(scraped.text).toMatch(/^keygate_verifier_mfa_checks_total\{method="assertion",result="CounterNotIncreased"\} 1$/m);
    const flagged = await waitFor("the device to show the flag", async () => {
      const status = (await device("bob-key")).status;
      return status?.cloneSuspectedAt !== undefined && ready(status.conditions)?.reason === "CloneSuspected" ? status : undefined;
    });
    expect(ready(flagged.conditions)?.status).toBe("False");
    const after = await verify(first, "bob", await assertWith(key, spare));
    expect([after.status, after.json.code]).toEqual([200, "AuthenticatorCloned"]);
    const offered = await call(first, "/v1/mfa/challenge", { namespace: ns.name, user: "bob" });
    expect([offered.status, offered.json.message]).toEqual([404, "user bob has only security keys flagged as cloned; register a key again"]);
    await clone.unplug();
  });

  it("locks a key after five bad assertions: 429 MfaLocked with Retry-After, even for a good one", async () => {
    const key = keys["carol-key"] as VirtualSecurityKey;
    await key.goto(elsewhere.origin);
    for (let attempt = 0; attempt < 5; attempt++) {
      const replica = replicas[attempt % 2] as RunningVerifier;
      const answer = await verify(replica, "carol", await assertWith(key, await challenge(replica, "carol")));
      expect(answer.json.code).toBe("OriginNotAllowed");
    }
    await key.goto(site.origin);
    const locked = await verify(replicas[1] as RunningVerifier, "carol", await assertWith(key, await challenge(replicas[0] as RunningVerifier, "carol")));
    expect([locked.status, locked.json.code]).toEqual([429, "MfaLocked"]);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(200);
  });

  it("issues an MFA-authenticated session for an assertion to a session challenge, and nothing for the same assertion again", async () => {
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, await challenge(replicas[0] as RunningVerifier, "alice", "session"));
    await apply(ns, [session("with-key", assertion)]);
    await sessionReady("with-key", "Issued");
    expect((await readSession("with-key")).status?.mfaAuthenticated).toBe(true);
    const secret = (await readSecretData(ns, "with-key-credentials")) ?? {};
    const request = { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", "api.example.internal"]] as Array<[string, string]> };
    const signed = signSigV4(request, { accessKeyId: secret.accessKeyId ?? "", secret: secret.secretAccessKey ?? "", region: "r", service: "things", sessionToken: secret.sessionToken }, new Date());
    const verified = await postVerify((replicas[1] as RunningVerifier).url, verifyBody(signed));
    expect(verified.json.principal).toMatchObject({ user: "alice", mfaAuthenticated: true });

    await apply(ns, [session("replayed", assertion)]);
    expect((await sessionReady("replayed", "MfaFailed")).message).toContain("ChallengeUsed");
    expect(await readSecretData(ns, "replayed-credentials")).toBeUndefined();
  });

  it("issues no session for an assertion to a verify challenge, which its requester may still redeem at /v1/mfa/verify", async () => {
    const assertion = await assertWith(keys["alice-key"] as VirtualSecurityKey, await challenge(replicas[0] as RunningVerifier, "alice"));
    await apply(ns, [session("from-verify", assertion)]);
    const refused = await sessionReady("from-verify", "MfaFailed");
    expect(refused.message).toContain("ChallengeMismatch");
    expect(refused.message).toContain("purpose verify, not session");
    expect(await readSecretData(ns, "from-verify-credentials")).toBeUndefined();
    const own = await verify(replicas[1] as RunningVerifier, "alice", assertion);
    expect([own.status, own.json]).toEqual([200, { valid: true, deviceName: "alice-key" }]);
  });
});
