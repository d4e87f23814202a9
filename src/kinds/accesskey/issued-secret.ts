import type { V1Secret } from "@kubernetes/client-node";
import { ACCESS_KEY_LABEL } from "../../labels.js";
import { type IssuedSecretTarget, issuedSecretShell } from "../../runtime/kube.js";

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
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
  return { ...issuedSecretShell(target, ACCESS_KEY_LABEL), stringData: issuedSecretData(pair) };
}
