import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's webcrypto is the DOM Crypto at run time; only the type declarations differ.
x509.cryptoProvider.set(webcrypto as never);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "server" | "client";
  validityDays: number;
}

function serialNumber(): string {
  // A positive 63-bit serial: RFC 5280 wants it unique per issuer and non-negative.
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

function distinguishedName(commonName: string, organizations: readonly string[] = []): string {
  const escape = (value: string): string => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${escape(commonName)}`, ...organizations.map((org) => `O=${escape(org)}`)].join(", ");
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

export async function createCertificateAuthority(
  commonName: string,
  validityDays: number,
  now = new Date(),
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(commonName),
    ...validity(validityDays, now),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, certificate, certPem: certificate.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

function subjectAltNames(request: CertificateRequest): x509.Extension[] {
  const names = [
    ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

export async function issueCertificate(
  ca: CertificateAuthority,
  request: CertificateRequest,
  now = new Date(),
): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const usage = request.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(request.commonName, request.organizations),
    issuer: ca.certificate.subject,
    ...validity(request.validityDays, now),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...subjectAltNames(request),
    ],
  });
  return { certPem: certificate.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Re-creates a CA from its PEM files, so certificates can be issued under a persisted CA. */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const der = Buffer.from(keyPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
  const privateKey = await webcrypto.subtle.importKey("pkcs8", der, ALGORITHM, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", certificate.publicKey.rawData, ALGORITHM, true, ["verify"]);
  return { keys: { privateKey, publicKey }, certificate, certPem, keyPem };
}
