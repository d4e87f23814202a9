import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UsageError } from "./exit.js";

// ~/.aws/credentials as the AWS CLI and SDKs read it: INI sections `[name]`, comments and blank
// lines. `aws configure set` rewrites one profile and keeps the rest as written; so does this.

const SECTION = /^\s*\[([^\]]*)\]\s*$/;
// What a section header can hold without being misread; the AWS CLI's own names fit.
const PROFILE_NAME = /^[A-Za-z0-9_.@+-]{1,64}$/;

/** `--profile`, checked: a name that cannot break the file's sections. */
export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new UsageError(`--profile must be 1-64 letters, digits or _ . @ + -, not "${name}"`);
  return name;
}

/** The file's text with `profile`'s section replaced by `section` in place, or appended; the rest unchanged. */
export function withProfile(text: string, profile: string, section: string): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const start = lines.findIndex((line) => SECTION.exec(line)?.[1]?.trim() === profile);
  const block = section.replace(/\n$/, "").split("\n");
  if (start === -1) {
    const gap = lines.length > 0 && lines[lines.length - 1]?.trim() !== "" ? [""] : [];
    return [...lines, ...gap, ...block].join("\n") + "\n";
  }
  const next = lines.findIndex((line, index) => index > start && SECTION.test(line));
  const end = next === -1 ? lines.length : next;
  // Blank lines before the next section stay, as its separator.
  let keep = end;
  while (keep > start + 1 && lines[keep - 1]?.trim() === "") keep -= 1;
  return [...lines.slice(0, start), ...block, ...lines.slice(keep)].join("\n") + "\n";
}

/** Where the AWS CLI reads credentials: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. */
export function sharedCredentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.AWS_SHARED_CREDENTIALS_FILE;
  return configured !== undefined && configured !== "" ? configured : join(homedir(), ".aws", "credentials");
}

async function currentText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

/**
 * Writes `section` as `profile` into the credentials file, readable by its owner only. The new
 * text goes to a file beside it and is renamed over it, so a reader never sees half a file.
 */
export async function writeProfile(path: string, profile: string, section: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const next = withProfile(await currentText(path), profile, section);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, next, { mode: 0o600, flag: "wx" });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
