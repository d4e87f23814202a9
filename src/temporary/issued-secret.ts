import type { V1OwnerReference, V1Secret } from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";

export const TEMPORARY_CREDENTIAL_LABEL = "iam.keygate.dev/temporary-credential";

export interface SessionMaterial {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** RFC 3339, as status.expiration. */
  expiration: string;
}

export interface SessionSecretTarget {
  namespace: string;
  secretName: string;
  owner: V1OwnerReference;
}

/** The session in every form the SDKs read, token and expiry included. */
export function sessionSecretData(session: SessionMaterial): Record<string, string> {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = session;
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
    ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: secretAccessKey,
    ALIBABA_CLOUD_SECURITY_TOKEN: sessionToken,
    HUAWEICLOUD_SDK_AK: accessKeyId,
    HUAWEICLOUD_SDK_SK: secretAccessKey,
    HUAWEICLOUD_SDK_SECURITY_TOKEN: sessionToken,
    credentials:
      `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n` +
      `aws_session_token = ${sessionToken}\n`,
  };
}

export function buildSessionSecret(target: SessionSecretTarget, session: SessionMaterial): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: target.secretName,
      namespace: target.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [TEMPORARY_CREDENTIAL_LABEL]: target.owner.name },
      ownerReferences: [target.owner],
    },
    immutable: true,
    stringData: sessionSecretData(session),
  };
}
