import { stringify } from "yaml";

export interface KubeconfigUser {
  name: string;
  certPem: string;
  keyPem: string;
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

/** A self-contained kubeconfig (certificates inline) with one context per user. */
export function renderKubeconfig(server: string, caPem: string, users: readonly KubeconfigUser[]): string {
  const [first] = users;
  if (!first) throw new Error("a kubeconfig needs at least one user");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "keygate-dev", cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: users.map((user) => ({
      name: user.name,
      user: { "client-certificate-data": b64(user.certPem), "client-key-data": b64(user.keyPem) },
    })),
    contexts: users.map((user) => ({
      name: user.name,
      context: { cluster: "keygate-dev", user: user.name, namespace: "default" },
    })),
    "current-context": first.name,
  });
}
