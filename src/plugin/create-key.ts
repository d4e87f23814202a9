import { type Command, Option } from "commander";
import { stringify } from "yaml";
import { ACCESS_KEY_KIND, ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { API_VERSION } from "../api/group.js";
import { parseDuration } from "../duration.js";
import { issuance, keyNamePrefix } from "./access-keys.js";
import { type DryRunMode, type PluginCommand, withDryRun, withExamples } from "./command.js";
import { downloadContent, type DownloadFormat, type NewKey, parseDownload, SecretFile } from "./downloads.js";
import { UsageError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, withMfaCode } from "./mfa-code.js";
import { Kind, type KeygateObject } from "./resources.js";
import { userOrSelf } from "./self.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface CreateKeyOptions {
  name?: string;
  description?: string;
  download?: string[];
  mfaCode?: string;
  dryRun?: DryRunMode;
  timeout: string;
}

const SHOWN_ONCE =
  "This is the only time the secret access key is shown: kubectl keygate will not show it again.\n" +
  "Keep it safe; if it is lost, create a new key and delete this one.\n";

function manifest(session: Session, user: string, options: CreateKeyOptions, code: string | undefined): KeygateObject {
  const naming = options.name === undefined ? { generateName: keyNamePrefix(user) } : { name: options.name };
  const description = options.description === undefined ? {} : { description: options.description };
  return {
    apiVersion: API_VERSION,
    kind: ACCESS_KEY_KIND,
    metadata: { ...naming, namespace: session.namespace, annotations: mfaCodeAnnotations(code) },
    spec: { user, ...description },
  };
}

/** The issued key pair, read back from its Secret. */
export async function readIssuedPair(session: Session, secretName: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const secret = await session.core.readNamespacedSecret({ name: secretName, namespace: session.namespace });
  const field = (key: string): string => Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
  return { accessKeyId: field("accessKeyId"), secretAccessKey: field("secretAccessKey") };
}

/** What the person reads: the id, and the secret once (or where it went), with the consoles' warning. */
export function createdKeyText(key: NewKey, where: { namespace: string; name: string }, download?: { format: DownloadFormat; file: string }): string {
  const secretLine = download === undefined ? key.secretAccessKey : `written to ${download.file} (${download.format}, mode 0600)`;
  return (
    `Access key created for user ${key.user} in namespace ${where.namespace} (accesskey/${where.name}).\n\n` +
    `  Access key ID       ${key.accessKeyId}\n` +
    `  Secret access key   ${secretLine}\n\n` +
    SHOWN_ONCE
  );
}

async function createAndShow(session: Session, user: string, options: CreateKeyOptions, file: SecretFile | undefined): Promise<void> {
  const timeoutMs = parseDuration(options.timeout, "--timeout");
  const code = await mfaCodeFor(session, options.mfaCode);
  const created = await new Kind(session, ACCESS_KEY_PLURAL).create(manifest(session, user, options, code), options.dryRun);
  printWarnings(created.warnings);
  const name = created.object.metadata?.name ?? "";
  if (options.dryRun === "server") {
    process.stdout.write(`accesskey/${name} created (server dry run)\n`);
    return;
  }
  process.stderr.write(`Waiting for accesskey/${name} to be issued...\n`);
  const issued = await waitForObject(session, { plural: ACCESS_KEY_PLURAL, name }, issuance, timeoutMs);
  const pair = await readIssuedPair(session, issued.secretName);
  const key: NewKey = { user, ...pair, createdAt: issued.createdAt };
  const download = parseDownload(options.download);
  if (file && download) await file.write(downloadContent(download.format, key));
  process.stdout.write(createdKeyText(key, { namespace: session.namespace, name }, download));
}

async function createKey(userArgument: string | undefined, options: CreateKeyOptions, command: Command): Promise<void> {
  const download = parseDownload(options.download);
  if (download && options.dryRun) throw new UsageError("--download and --dry-run do not go together: a dry run issues no secret");
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  if (options.dryRun === "client") {
    process.stdout.write(stringify(manifest(session, user, options, options.mfaCode)));
    return;
  }
  const file = download ? await SecretFile.claim(download.file) : undefined;
  try {
    await createAndShow(session, user, options, file);
  } catch (error) {
    await file?.abandon();
    throw error;
  }
}

export const createKeyCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("create-key")
      .description("create an access key for USER (default: yourself) and show its secret once, or download it")
      .argument("[user]", "the keygate user the key belongs to (default: the user you are, mapped as the operator maps it)")
      .option("--name <name>", "the AccessKey's name (default: generated from the user name)")
      .option("--description <text>", "free text shown beside the key")
      .addOption(new Option("--download <format-and-file...>", "write the pair to FILE instead of the screen: csv, env, ini or json; mode 0600, never overwriting"))
      .option("--timeout <duration>", "how long to wait for the key to be issued", "60s");
    withExamples(withDryRun(withMfaCode(command)), [
      "# a key for yourself, shown once on the screen",
      "kubectl keygate create-key",
      "# a key for bob in team-a, saved as the AWS console's CSV",
      "kubectl keygate create-key bob -n team-a --download csv ./bob-accessKeys.csv",
      "# every cloud's environment variables, for docker --env-file",
      "kubectl keygate create-key --download env ./key.env",
      "# under operation protection",
      "kubectl keygate create-key --mfa-code 123456",
      "# the AccessKey that would be created",
      "kubectl keygate create-key bob --dry-run=client",
    ]).action(createKey);
  },
};
