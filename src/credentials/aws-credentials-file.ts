// A profile of the AWS shared credentials file (~/.aws/credentials), as the AWS CLI and SDKs read it.

export interface ProfileCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** A session's security token; absent for a long-term key. */
  readonly sessionToken?: string;
}

/** One `[profile]` section; ids, secrets and tokens need no quoting in INI. */
export function awsCredentialsProfile(profile: string, credentials: ProfileCredentials): string {
  const token = credentials.sessionToken === undefined ? "" : `aws_session_token = ${credentials.sessionToken}\n`;
  return `[${profile}]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n${token}`;
}
