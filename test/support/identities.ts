import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { issueCertificate, loadCertificateAuthority } from "../../src/pki/pki.js";
import { PooledKubeConfig } from "../../src/runtime/kubeconfig.js";
import { controlPlane, kubeConfig } from "./cluster.js";

/** A real identity the API server authenticates, and clients acting as it. */
export interface Identity {
  readonly username: string;
  readonly kc: k8s.KubeConfig;
  readonly custom: k8s.CustomObjectsApi;
  /** A kubeconfig file of the identity, for the real kubectl. */
  readonly kubeconfigPath: string;
}

async function identity(username: string, user: k8s.User): Promise<Identity> {
  const admin = kubeConfig();
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("the admin kubeconfig names no cluster");
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: user.name, cluster: cluster.name, user: user.name }],
    currentContext: user.name,
  });
  const kubeconfigPath = join(await mkdtemp(join(tmpdir(), "identity-")), "kubeconfig");
  await writeFile(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  return { username, kc, custom: kc.makeApiClient(k8s.CustomObjectsApi), kubeconfigPath };
}

/** A client certificate signed by the cluster's CA: the API server takes its CN as the username, as an OIDC provider's would be. */
export async function certificateIdentity(commonName: string): Promise<Identity> {
  const { certFile, keyFile } = controlPlane().caFiles;
  const ca = await loadCertificateAuthority(await readFile(certFile, "utf8"), await readFile(keyFile, "utf8"));
  const pair = await issueCertificate(ca, { commonName, usage: "client", validityDays: 1 });
  const data = (pem: string): string => Buffer.from(pem).toString("base64");
  return identity(commonName, { name: commonName, certData: data(pair.certPem), keyData: data(pair.keyPem) });
}

/** A ServiceAccount of the namespace (created when missing), authenticated by a token from the TokenRequest API. */
export async function serviceAccountIdentity(namespace: string, name: string): Promise<Identity> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  });
  const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return identity(`system:serviceaccount:${namespace}:${name}`, { name, token: token.status?.token });
}
