// The files the clouds' consoles offer for download when an access key is created, byte for byte,
// so that a script written against a console download reads the issued Secret unchanged.
// docs/accesskeys.md names the source of every detail below.

export interface ConsoleCsvInput {
  readonly user: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const BOM = "\uFEFF";
// RFC 4180's record separator; AWS's file has it, and it is what a CSV reader expects by default.
const CRLF = "\r\n";

// Ids and secrets need no quoting (base32 and base64url); a user name may hold a comma.
/** An RFC 4180 quoted field, quotes doubled. */
function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function rows(...lines: readonly string[][]): string {
  return lines.map((line) => line.join(",") + CRLF).join("");
}

/** AWS IAM console, "Download .csv file": UTF-8 with a byte order mark, CRLF line ends, no user column. */
export function awsAccessKeysCsv(input: ConsoleCsvInput): string {
  return BOM + rows(["Access key ID", "Secret access key"], [input.accessKeyId, input.secretAccessKey]);
}

/** Alibaba Cloud RAM console, AccessKey download. */
export function alibabaAccessKeyCsv(input: ConsoleCsvInput): string {
  return rows(["AccessKey ID", "AccessKey Secret"], [input.accessKeyId, input.secretAccessKey]);
}

/** Huawei Cloud console, access key download: the user name first, in quotes, as the console writes it. */
export function huaweiCredentialsCsv(input: ConsoleCsvInput): string {
  return rows(["User Name", "Access Key Id", "Secret Access Key"], [quoted(input.user), input.accessKeyId, input.secretAccessKey]);
}

/** Secret data key → content, each key named as the console names its file where that is a valid Secret key. */
export function consoleCsvFiles(input: ConsoleCsvInput): Record<string, string> {
  return {
    "accessKeys.csv": awsAccessKeysCsv(input),
    "AccessKey.csv": alibabaAccessKeyCsv(input),
    "credentials.csv": huaweiCredentialsCsv(input),
  };
}
