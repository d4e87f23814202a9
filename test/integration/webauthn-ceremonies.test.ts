import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KekSet } from "../../src/keystore/kek.js";
import type { MfaRecord } from "../../src/keystore/mfa-record.js";
import type { AuthenticationResponse } from "../../src/api/webauthn.js";
import { checkAssertionChallenge, issueAssertionChallenge, type ValidChallenge } from "../../src/webauthn/assertion-challenge.js";
import { checkAssertion, judgeAssertion } from "../../src/webauthn/assertion.js";
import { type ClientData, isRefusal, readClientData } from "../../src/webauthn/ceremony.js";
import { startRegistration, verifyRegistration } from "../../src/webauthn/registration.js";
import type { RelyingParty } from "../../src/webauthn/relying-party.js";
import { launchChromium, type BlankSite, type RunningBrowser, serveBlankSite, VirtualSecurityKey } from "../support/browser.js";

// The WebAuthn core against what a real browser's authenticator produces, with no cluster: the
// library verifies what Chromium's CTAP2 virtual authenticator signed, and keygate's own rules
// (origin, challenge, counter) refuse with their codes.
const kek = randomBytes(32);
const keks: KekSet = { current: { version: 1, key: kek }, ring: new Map([[1, kek]]) };
const subject = { namespace: "team-a", user: "alice" };

describe("WebAuthn ceremonies with Chromium's virtual authenticator", () => {
  let chromium: RunningBrowser;
  let site: BlankSite;
  let other: BlankSite;
  let rp: RelyingParty;

  beforeAll(async () => {
    chromium = await launchChromium();
    site = await serveBlankSite();
    other = await serveBlankSite();
    rp = { id: "localhost", name: "keygate", origins: [site.origin] };
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await site?.stop();
    await other?.stop();
  });

  async function register(key: VirtualSecurityKey): Promise<{ id: string; publicKey: string; counter: number }> {
    const registrant = { ...subject, deviceName: "yubi", userId: randomBytes(16).toString("base64url") };
    const pending = await startRegistration(rp, registrant, [], new Date());
    const verified = await verifyRegistration(rp, await key.create(pending.options), pending, new Date());
    if (isRefusal(verified)) throw new Error(verified.message);
    return verified;
  }

  function recordOf(credential: { id: string }, signCount: number): MfaRecord {
    return { ownerUid: "u", namespace: subject.namespace, user: subject.user, deviceName: "yubi", createdAt: "", sealed: "", bound: true, lastAcceptedStep: 0, failedAttempts: 0, deviceType: "SecurityKey", credentialId: credential.id, rpId: rp.id, signCount };
  }

  async function assertWith(key: VirtualSecurityKey, credential: { id: string }) {
    const challenge = issueAssertionChallenge(keks, { ...subject, purpose: "session" }, new Date());
    return key.get({ challenge, rpId: rp.id, allowCredentials: [{ id: credential.id, type: "public-key" }], userVerification: "preferred" });
  }

  function clientDataOf(assertion: AuthenticationResponse): ClientData {
    const clientData = readClientData(assertion.response.clientDataJSON);
    if (isRefusal(clientData)) throw new Error(clientData.message);
    return clientData;
  }

  function challengeOf(assertion: AuthenticationResponse): ValidChallenge {
    const { challenge } = JSON.parse(Buffer.from(assertion.response.clientDataJSON, "base64url").toString("utf8")) as { challenge: string };
    const valid = checkAssertionChallenge(keks, challenge, { ...subject, purpose: "session" }, new Date());
    if (isRefusal(valid)) throw new Error(valid.message);
    return valid;
  }

  it.each([true, false])("registers a key and verifies its assertions (resident key: %s)", async (residentKey) => {
    const key = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey }, site.origin);
    const credential = await register(key);
    const assertion = await assertWith(key, credential);
    const check = await checkAssertion(rp, assertion, clientDataOf(assertion), { ...credential, rpId: rp.id });
    expect(check).toMatchObject({ ok: true });
    const judged = judgeAssertion(recordOf(credential, credential.counter), check, challengeOf(assertion), new Date());
    expect(judged.answer).toEqual({ valid: true, deviceName: "yubi" });
    await key.unplug();
  });

  it("refuses a ceremony on an origin not allowed, and a lowered counter", async () => {
    const key = await VirtualSecurityKey.plugIn(chromium.browser, { residentKey: false }, site.origin);
    const credential = await register(key);
    await key.goto(other.origin);
    const away = await assertWith(key, credential);
    const elsewhere = await checkAssertion(rp, away, clientDataOf(away), { ...credential, rpId: rp.id });
    expect(elsewhere).toMatchObject({ ok: false, code: "OriginNotAllowed" });
    await key.goto(site.origin);
    await key.setSignCount(credential.id, 0);
    const assertion = await assertWith(key, credential);
    const check = await checkAssertion(rp, assertion, clientDataOf(assertion), { ...credential, rpId: rp.id });
    const judged = judgeAssertion(recordOf(credential, 5), check, challengeOf(assertion), new Date());
    expect(judged.answer).toMatchObject({ valid: false, code: "CounterNotIncreased" });
    expect(judged.next?.cloneSuspectedAt).toBeDefined();
    await key.unplug();
  });
});
