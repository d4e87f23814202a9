import { describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../../src/pki/pki.js";
import { needsRenewal, RENEW_BEFORE_MS } from "../../../src/webhook/certificate.js";

const DAY = 24 * 60 * 60 * 1000;
const identity = { dnsNames: ["keygate.keygate-system.svc"], ipAddresses: [] };

describe("renewing the webhook serving certificate", async () => {
  const now = new Date("2026-11-22T00:00:00Z");
  const ca = await createCertificateAuthority("test-ca", 3650, now);
  const cert = await issueCertificate(ca, { commonName: "w", ...identity, usage: "server", validityDays: 365 }, now);

  it("keeps a fresh certificate that covers the service name", () => {
    expect(needsRenewal(cert.certPem, identity, now, RENEW_BEFORE_MS)).toBe(false);
  });

  it("renews 30 days before expiry, not later", () => {
    expect(needsRenewal(cert.certPem, identity, new Date(now.getTime() + 334 * DAY), RENEW_BEFORE_MS)).toBe(false);
    expect(needsRenewal(cert.certPem, identity, new Date(now.getTime() + 336 * DAY), RENEW_BEFORE_MS)).toBe(true);
  });

  it("renews a certificate that does not name the endpoint", () => {
    expect(needsRenewal(cert.certPem, { dnsNames: ["other.svc"], ipAddresses: [] }, now, RENEW_BEFORE_MS)).toBe(true);
    expect(needsRenewal(cert.certPem, { dnsNames: [], ipAddresses: ["127.0.0.1"] }, now, RENEW_BEFORE_MS)).toBe(true);
  });

  it("renews when there is no certificate or it does not parse", () => {
    expect(needsRenewal(undefined, identity, now, RENEW_BEFORE_MS)).toBe(true);
    expect(needsRenewal("not a certificate", identity, now, RENEW_BEFORE_MS)).toBe(true);
  });
});
