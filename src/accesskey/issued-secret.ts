import type { V1OwnerReference, V1Secret } from "@kubernetes/client-node";
import { ACCESS_KEY_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface IssuedSecretTarget {
  namespace: string;
  secretName: string;
  owner: V1OwnerReference;
}

function awsCredentialsFile(pair: KeyPair): string {
  return `[default]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n`;
}

// The two-column file the clouds' consoles offer for download when a key is created.
function consoleCsv(pair: KeyPair): string {
  return `Access key ID,Secret access key\n${pair.accessKeyId},${pair.secretAccessKey}\n`;
}

/** Every form of the pair that SDKs and tools read directly, so a workload just mounts it. */
export function issuedSecretData(pair: KeyPair): Record<string, string> {
  return {
    accessKeyId: pair.accessKeyId,
    secretAccessKey: pair.secretAccessKey,
    AWS_ACCESS_KEY_ID: pair.accessKeyId,
    AWS_SECRET_ACCESS_KEY: pair.secretAccessKey,
    ALIBABA_CLOUD_ACCESS_KEY_ID: pair.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: pair.secretAccessKey,
    HUAWEICLOUD_SDK_AK: pair.accessKeyId,
    HUAWEICLOUD_SDK_SK: pair.secretAccessKey,
    credentials: awsCredentialsFile(pair),
    "accessKeys.csv": consoleCsv(pair),
  };
}

export function buildIssuedSecret(target: IssuedSecretTarget, pair: KeyPair): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: target.secretName,
      namespace: target.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [ACCESS_KEY_LABEL]: target.owner.name },
      ownerReferences: [target.owner],
    },
    // Immutable: the pair is written once and can never be edited in place (DESIGN invariant 1).
    immutable: true,
    stringData: issuedSecretData(pair),
  };
}
