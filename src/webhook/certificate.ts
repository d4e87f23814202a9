import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { isApiStatus } from "../runtime/errors.js";
import { type CertificateAuthority, createCertificateAuthority, issueCertificate, loadCertificateAuthority } from "../pki/pki.js";

export const WEBHOOK_TLS_SECRET = "keygate-webhook-tls";
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const SERVING_VALIDITY_DAYS = 365;
// Renewing a month ahead leaves every replica many chances to pick the new certificate up.
export const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface ServingIdentity {
  dnsNames: string[];
  ipAddresses: string[];
}

export interface WebhookCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function sanList(identity: ServingIdentity): string[] {
  return [...identity.dnsNames.map((name) => `DNS:${name}`), ...identity.ipAddresses.map((ip) => `IP Address:${ip}`)];
}

/** Pure: whether a PEM certificate must be replaced, by expiry or by the names it must cover. */
export function needsRenewal(certPem: string | undefined, identity: ServingIdentity, now: Date, renewBeforeMs: number): boolean {
  if (!certPem) return true;
  try {
    const cert = new X509Certificate(certPem);
    const expiresSoon = Date.parse(cert.validTo) - now.getTime() < renewBeforeMs;
    const names = (cert.subjectAltName ?? "").split(", ");
    return expiresSoon || !sanList(identity).every((san) => names.includes(san));
  } catch {
    return true;
  }
}

function decode(secret: k8s.V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

async function currentCa(secret: k8s.V1Secret | undefined, now: Date): Promise<CertificateAuthority> {
  const caPem = decode(secret, "ca.crt");
  const caKey = decode(secret, "ca.key");
  if (caPem && caKey && !needsRenewal(caPem, { dnsNames: [], ipAddresses: [] }, now, RENEW_BEFORE_MS)) {
    return loadCertificateAuthority(caPem, caKey);
  }
  return createCertificateAuthority("keygate-webhook-ca", CA_VALIDITY_DAYS, now);
}

function toSecret(namespace: string, ca: CertificateAuthority, serving: { certPem: string; keyPem: string }, resourceVersion?: string): k8s.V1Secret {
  const stringData = { "ca.crt": ca.certPem, "ca.key": ca.keyPem, "tls.crt": serving.certPem, "tls.key": serving.keyPem };
  return {
    metadata: { name: WEBHOOK_TLS_SECRET, namespace, resourceVersion, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

async function readSecret(core: k8s.CoreV1Api, namespace: string): Promise<k8s.V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name: WEBHOOK_TLS_SECRET });
  } catch (error) {
    if (isApiStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * The webhook's serving certificate, kept in a Secret of the operator namespace so that every
 * replica serves the same one. The CA lives ten years and is kept across renewals, so the
 * caBundle the API server trusts stays valid while the serving certificate is replaced.
 */
export async function ensureWebhookCertificate(
  core: k8s.CoreV1Api,
  namespace: string,
  identity: ServingIdentity,
  now: Date,
): Promise<WebhookCertificate> {
  const secret = await readSecret(core, namespace);
  const certPem = decode(secret, "tls.crt");
  const keyPem = decode(secret, "tls.key");
  const caPem = decode(secret, "ca.crt");
  if (certPem && keyPem && caPem && !needsRenewal(certPem, identity, now, RENEW_BEFORE_MS)) {
    return { caPem, certPem, keyPem };
  }
  const ca = await currentCa(secret, now);
  const serving = await issueCertificate(
    ca,
    { commonName: identity.dnsNames[0] ?? "keygate-webhook", ...identity, usage: "server", validityDays: SERVING_VALIDITY_DAYS },
    now,
  );
  const body = toSecret(namespace, ca, serving, secret?.metadata?.resourceVersion);
  // Replicas race here; optimistic concurrency makes the loser fail and read the winner's next time.
  if (secret) await core.replaceNamespacedSecret({ namespace, name: WEBHOOK_TLS_SECRET, body });
  else await core.createNamespacedSecret({ namespace, body });
  return { caPem: ca.certPem, ...serving };
}

/** The files of a mounted certificate Secret (what cert-manager writes for a Certificate). */
export const MOUNTED_CERTIFICATE_FILES = { caPem: "ca.crt", certPem: "tls.crt", keyPem: "tls.key" } as const;

async function readMounted(dir: string, file: string, flag: string): Promise<string> {
  try {
    return await readFile(join(dir, file), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${flag}: cannot read ${file} in ${dir} (${reason}); the directory must hold tls.crt, tls.key and ca.crt`);
  }
}

function certificateOf(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(serving: X509Certificate, keyPem: string): boolean {
  try {
    return serving.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function checkMounted(dir: string, certificate: WebhookCertificate, flag: string): void {
  const where = (file: string): string => `${flag}: ${file} in ${dir}`;
  if (!certificateOf(certificate.caPem)) throw new Error(`${where("ca.crt")} is not a PEM certificate`);
  const serving = certificateOf(certificate.certPem);
  if (!serving) throw new Error(`${where("tls.crt")} is not a PEM certificate`);
  if (!keyMatches(serving, certificate.keyPem)) throw new Error(`${where("tls.key")} is not the PEM private key of tls.crt`);
}

/**
 * Reads the webhook's certificate from a directory someone else keeps current (a cert-manager
 * Certificate's Secret mounted as a volume): the serving pair and the CA the API server must trust.
 */
export async function readMountedCertificate(dir: string, flag = "--webhook-cert-dir"): Promise<WebhookCertificate> {
  const files = MOUNTED_CERTIFICATE_FILES;
  const [caPem, certPem, keyPem] = await Promise.all([
    readMounted(dir, files.caPem, flag),
    readMounted(dir, files.certPem, flag),
    readMounted(dir, files.keyPem, flag),
  ]);
  const certificate = { caPem, certPem, keyPem };
  checkMounted(dir, certificate, flag);
  return certificate;
}
