import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, getKey, manifest, readSecretData, setState, waitForReason } from "../support/accesskeys.js";
import { useNamespace } from "../support/cluster.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { postVerify, verifyBody } from "../support/verifier-http.js";
import { removeWebhookRegistrations } from "../support/webhooks.js";
import { waitFor } from "../support/wait.js";

const request: HttpRequestDescription = { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", "api.example.test"]] };

// Deactivation and reactivation are the same kind of change for the verifier; neither may wait
// for a reconcile, since a backlog or a stopped operator would hold one direction back. Admission
// tells them apart: a deactivation goes through even when no replica answers.
describe("the verifier while no operator runs", () => {
  const ns = useNamespace("vno");
  let op: TestOperator;
  let verifier: RunningVerifier;
  let operatorStopped = false;

  beforeAll(async () => {
    op = await startTestOperator();
    verifier = await startTestVerifier(op.namespace);
  });

  afterAll(async () => {
    await verifier.stop();
    if (!operatorStopped) await op.operator.stop();
  });

  it("honours a reactivation, and a deactivation, written while the operator is stopped", async () => {
    await apply(ns, [manifest("sleeper", { user: "alice" })]);
    const issued = await waitForReason(ns, "sleeper", "Issued");
    const data = await readSecretData(ns, issued.status?.secretRef?.name ?? "");
    const key = { accessKeyId: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    const verify = async (): Promise<number> => {
      const signed = signSigV4(request, { ...key, region: "eu-central-1", service: "things" }, new Date());
      return (await postVerify(verifier.url, verifyBody(signed))).status;
    };
    await setState(ns, "sleeper", "Inactive");
    // The record follows to Inactive before the operator stops: only the spec can bring it back.
    await waitForReason(ns, "sleeper", "Inactive");
    expect(await verify()).toBe(403);

    await op.operator.stop();
    operatorStopped = true;
    // With no replica to answer, admission refuses a reactivation (it fails closed); an
    // administrator who must reactivate during the outage removes the registrations first.
    expect(await setState(ns, "sleeper", "Active").then(() => "admitted", (error: unknown) => String(error))).toContain("failed calling webhook");
    await removeWebhookRegistrations();
    await waitFor("the reactivation to be admitted without a webhook", () => setState(ns, "sleeper", "Active").then(() => true, () => undefined));
    const reactivated = Date.now();
    await waitFor("the reactivated key to verify", async () => ((await verify()) === 200 ? true : undefined), 5000);
    expect(Date.now() - reactivated).toBeLessThan(1000);

    await setState(ns, "sleeper", "Inactive");
    await waitFor("the deactivated key to be refused", async () => ((await verify()) === 403 ? true : undefined), 5000);
  });

  it("admits a deactivation while no replica answers: the webhook for it fails open", async () => {
    const fresh = await startTestOperator();
    try {
      await apply(ns, [manifest("leaked", { user: "bob" })]);
      await waitForReason(ns, "leaked", "Issued");
    } finally {
      await fresh.operator.stop();
    }
    await setState(ns, "leaked", "Inactive");
    expect((await getKey(ns, "leaked"))?.spec.state).toBe("Inactive");
    expect(await setState(ns, "leaked", "Active").then(() => "admitted", (error: unknown) => String(error))).toContain("failed calling webhook");
    await removeWebhookRegistrations();
  });
});
