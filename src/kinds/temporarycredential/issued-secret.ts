import type { V1Secret } from "@kubernetes/client-node";
import { type IssuedSecretTarget, issuedSecretShell } from "../../runtime/kube.js";

export const TEMPORARY_CREDENTIAL_LABEL = "iam.keygate.dev/temporary-credential";

export interface SessionMaterial {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** RFC 3339, as status.expiration. */
  expiration: string;
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

export function buildSessionSecret(target: IssuedSecretTarget, session: SessionMaterial): V1Secret {
  return { ...issuedSecretShell(target, TEMPORARY_CREDENTIAL_LABEL), stringData: sessionSecretData(session) };
}
