import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../src/pki/pki.js";
import { WEBHOOK_CONFIGURATION_NAME } from "../../src/webhook/registration.js";
import { apply, getKey, manifest, waitForReason } from "../support/accesskeys.js";
import { kubeConfig, useNamespace } from "../support/cluster.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";

// What a cert-manager Certificate's Secret looks like once mounted: tls.crt, tls.key, ca.crt.
async function mountedCertificate(): Promise<{ dir: string; caPem: string }> {
  const ca = await createCertificateAuthority("external-issuer", 30);
  const serving = await issueCertificate(ca, { commonName: "keygate-operator", ipAddresses: ["127.0.0.1"], usage: "server", validityDays: 30 });
  const dir = await mkdtemp(join(tmpdir(), "webhook-cert-"));
  await writeFile(join(dir, "ca.crt"), ca.certPem);
  await writeFile(join(dir, "tls.crt"), serving.certPem);
  await writeFile(join(dir, "tls.key"), serving.keyPem);
  return { dir, caPem: ca.certPem };
}

describe("the admission webhook with a mounted certificate (the cert-manager option)", () => {
  const ns = useNamespace("certdir");
  let op: TestOperator;
  let caPem = "";

  beforeAll(async () => {
    const mounted = await mountedCertificate();
    caPem = mounted.caPem;
    op = await startTestOperator({ webhookCertDir: mounted.dir });
  });

  afterAll(async () => {
    await op.operator.stop();
  });

  it("registers the mounted CA and serves admission with the mounted certificate", async () => {
    const config = await kubeConfig()
      .makeApiClient(k8s.AdmissionregistrationV1Api)
      .readValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
    const bundles = (config.webhooks ?? []).map((webhook) => Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString());
    expect(bundles.length).toBeGreaterThan(0);
    for (const bundle of bundles) expect(bundle).toBe(caPem);
    await apply(ns, [manifest("one", { user: "alice" }), manifest("two", { user: "alice" })]);
    await waitForReason(ns, "two", "Issued");
    const refused = await apply(ns, [manifest("three", { user: "alice" })]).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(refused).toContain("user alice already has 2 access keys");
    expect(await getKey(ns, "three")).toBeUndefined();
  });
});
