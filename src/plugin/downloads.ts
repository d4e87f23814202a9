import { type FileHandle, open, unlink } from "node:fs/promises";
import { awsCredentialsProfile } from "../credentials/aws-credentials-file.js";
import { awsAccessKeysCsv } from "../credentials/console-csv.js";
import { PluginError, UsageError } from "./exit.js";

// The files people download when a console creates a key, in the shapes SDKs and tools read:
// csv as the AWS console's, env for `--env-file`/dotenv with every cloud's variables, ini as a
// profile of ~/.aws/credentials, json as `aws iam create-access-key` prints it.
export const DOWNLOAD_FORMATS = ["csv", "env", "ini", "json"] as const;
export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number];

export interface NewKey {
  readonly user: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createdAt?: string;
}

function envFile(key: NewKey): string {
  const variables: [string, string][] = [
    ["AWS_ACCESS_KEY_ID", key.accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", key.secretAccessKey],
    ["ALIBABA_CLOUD_ACCESS_KEY_ID", key.accessKeyId],
    ["ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.secretAccessKey],
    ["HUAWEICLOUD_SDK_AK", key.accessKeyId],
    ["HUAWEICLOUD_SDK_SK", key.secretAccessKey],
  ];
  return variables.map(([name, value]) => `${name}=${value}\n`).join("");
}

function awsCliJson(key: NewKey): string {
  const accessKey = { UserName: key.user, AccessKeyId: key.accessKeyId, Status: "Active", SecretAccessKey: key.secretAccessKey, CreateDate: key.createdAt };
  return JSON.stringify({ AccessKey: accessKey }, null, 4) + "\n";
}

const RENDER: Record<DownloadFormat, (key: NewKey) => string> = {
  csv: awsAccessKeysCsv,
  env: envFile,
  ini: (key) => awsCredentialsProfile("default", key),
  json: awsCliJson,
};

export function downloadContent(format: DownloadFormat, key: NewKey): string {
  return RENDER[format](key);
}

function isDownloadFormat(value: string): value is DownloadFormat {
  return (DOWNLOAD_FORMATS as readonly string[]).includes(value);
}

/** `--download FORMAT FILE`, checked: exactly a format and a file. */
export function parseDownload(values: readonly string[] | undefined): { format: DownloadFormat; file: string } | undefined {
  if (values === undefined) return undefined;
  const [format = "", file, ...extra] = values;
  if (file === undefined || extra.length > 0) throw new UsageError(`--download takes a format and a file (--download csv ./key.csv), after USER; got ${values.length} values`);
  if (!isDownloadFormat(format)) throw new UsageError(`--download format must be one of ${DOWNLOAD_FORMATS.join(", ")}, not "${format}"`);
  return { format, file };
}

/**
 * A new file, readable by its owner only, claimed before the key is created: a file that exists
 * is never overwritten, and a key is never created whose secret has nowhere to go.
 */
export class SecretFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async claim(path: string): Promise<SecretFile> {
    try {
      return new SecretFile(path, await open(path, "wx", 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new PluginError(`${path} exists: refusing to overwrite it; choose another file`);
      throw new PluginError(`cannot create ${path}: ${(error as Error).message}`);
    }
  }

  private written = false;

  async write(content: string | Uint8Array): Promise<void> {
    // open()'s mode is filtered by the umask; the file must end up 0600 whatever it is.
    await this.handle.chmod(0o600);
    await this.handle.writeFile(content);
    await this.handle.close();
    this.written = true;
  }

  /** Removes the claimed file when nothing came to fill it (no key, no device); a written file stays. */
  async abandon(): Promise<void> {
    if (this.written) return;
    await this.handle.close();
    await unlink(this.path);
  }
}
