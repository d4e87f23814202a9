import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../../src/pki/pki.js";
import { readMountedCertificate } from "../../../src/webhook/certificate.js";

const now = new Date("2026-11-22T00:00:00Z");
const identity = { dnsNames: ["keygate-operator.keygate-system.svc"], ipAddresses: [] };

/** A directory laid out like a mounted cert-manager Secret. */
async function mounted(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-cert-dir-"));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

describe("reading a mounted webhook certificate (--webhook-cert-dir)", async () => {
  const ca = await createCertificateAuthority("test-ca", 3650, now);
  const serving = await issueCertificate(ca, { commonName: "w", ...identity, usage: "server", validityDays: 90 }, now);
  const good = { "ca.crt": ca.certPem, "tls.crt": serving.certPem, "tls.key": serving.keyPem };

  it("reads the serving pair and the CA to inject as the caBundle", async () => {
    const dir = await mounted(good);
    await expect(readMountedCertificate(dir)).resolves.toEqual({ caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem });
    await rm(dir, { recursive: true });
  });

  it("names the missing file and the flag", async () => {
    const dir = await mounted({ "tls.crt": serving.certPem, "tls.key": serving.keyPem });
    await expect(readMountedCertificate(dir)).rejects.toThrow(/--webhook-cert-dir: cannot read ca\.crt in .* \(ENOENT\)/);
    await rm(dir, { recursive: true });
  });

  it("refuses a certificate that is not PEM", async () => {
    const dir = await mounted({ ...good, "tls.crt": "not a certificate" });
    await expect(readMountedCertificate(dir)).rejects.toThrow(/--webhook-cert-dir: tls\.crt in .* is not a PEM certificate/);
    await rm(dir, { recursive: true });
  });

  it("refuses a key that does not belong to the certificate", async () => {
    const other = await issueCertificate(ca, { commonName: "x", ...identity, usage: "server", validityDays: 90 }, now);
    const dir = await mounted({ ...good, "tls.key": other.keyPem });
    await expect(readMountedCertificate(dir)).rejects.toThrow(/tls\.key in .* is not the PEM private key of tls\.crt/);
    await rm(dir, { recursive: true });
  });
});
