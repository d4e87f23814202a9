import type { V1Secret } from "@kubernetes/client-node";
import { awsCredentialsProfile } from "../../credentials/aws-credentials-file.js";
import { consoleCsvFiles } from "../../credentials/console-csv.js";
import { ACCESS_KEY_LABEL } from "../../labels.js";
import { type IssuedSecretTarget, issuedSecretShell } from "../../runtime/kube.js";

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The pair and the user it belongs to (the Huawei console's file names the user). */
export interface IssuedKey extends KeyPair {
  user: string;
}

/** Every form of the pair that SDKs, tools and console-download scripts read directly, so a workload just mounts it. */
export function issuedSecretData(pair: IssuedKey): Record<string, string> {
  return {
    accessKeyId: pair.accessKeyId,
    secretAccessKey: pair.secretAccessKey,
    AWS_ACCESS_KEY_ID: pair.accessKeyId,
    AWS_SECRET_ACCESS_KEY: pair.secretAccessKey,
    ALIBABA_CLOUD_ACCESS_KEY_ID: pair.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: pair.secretAccessKey,
    HUAWEICLOUD_SDK_AK: pair.accessKeyId,
    HUAWEICLOUD_SDK_SK: pair.secretAccessKey,
    credentials: awsCredentialsProfile("default", pair),
    ...consoleCsvFiles(pair),
  };
}

export function buildIssuedSecret(target: IssuedSecretTarget, pair: IssuedKey): V1Secret {
  return { ...issuedSecretShell(target, ACCESS_KEY_LABEL), stringData: issuedSecretData(pair) };
}
