import { generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CertificateAuthority, createCertificateAuthority, issueCertificate, type KeyPairPem } from "../pki/pki.js";

export const ADMIN_USER = "keygate-admin";
export const UNPRIVILEGED_USER = "keygate-unprivileged";

/** Every credential one local control plane needs, as files its components can read. */
export interface ControlPlanePki {
  ca: CertificateAuthority;
  caFile: string;
  /** The CA's key: client certificates it signs are identities the API server accepts. */
  caKeyFile: string;
  apiServer: KeyPairPem & { certFile: string; keyFile: string };
  admin: KeyPairPem & { certFile: string; keyFile: string };
  unprivileged: KeyPairPem;
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
}

const VALIDITY_DAYS = 30;

// What a workload in the cluster would call the API server; 10.0.0.1 is the first address of
// the service range the API server is given.
const API_SERVER_NAMES = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"];
const API_SERVER_IPS = ["127.0.0.1", "10.0.0.1"];

async function writePair(dir: string, name: string, pair: KeyPairPem): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, pair.certPem);
  await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

/** extraServerIps: addresses the API server is reached on besides loopback (a node's address). */
export async function createControlPlanePki(dir: string, extraServerIps: readonly string[] = []): Promise<ControlPlanePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority("keygate-dev-ca", VALIDITY_DAYS);
  const caFile = join(dir, "ca.crt");
  await writeFile(caFile, ca.certPem);
  const caKeyFile = join(dir, "ca.key");
  await writeFile(caKeyFile, ca.keyPem, { mode: 0o600 });
  const apiServerPair = await issueCertificate(ca, {
    commonName: "kube-apiserver",
    dnsNames: API_SERVER_NAMES,
    ipAddresses: [...API_SERVER_IPS, ...extraServerIps],
    usage: "server",
    validityDays: VALIDITY_DAYS,
  });
  const admin = await issueCertificate(ca, {
    commonName: ADMIN_USER,
    organizations: ["system:masters"],
    usage: "client",
    validityDays: VALIDITY_DAYS,
  });
  const unprivileged = await issueCertificate(ca, {
    commonName: UNPRIVILEGED_USER,
    usage: "client",
    validityDays: VALIDITY_DAYS,
  });
  const serviceAccount = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const serviceAccountPublicKeyFile = join(dir, "sa.pub");
  const serviceAccountPrivateKeyFile = join(dir, "sa.key");
  await writeFile(serviceAccountPublicKeyFile, serviceAccount.publicKey);
  await writeFile(serviceAccountPrivateKeyFile, serviceAccount.privateKey, { mode: 0o600 });
  return {
    ca,
    caFile,
    caKeyFile,
    apiServer: { ...apiServerPair, ...(await writePair(dir, "apiserver", apiServerPair)) },
    admin: { ...admin, ...(await writePair(dir, "admin", admin)) },
    unprivileged,
    serviceAccountPublicKeyFile,
    serviceAccountPrivateKeyFile,
  };
}
