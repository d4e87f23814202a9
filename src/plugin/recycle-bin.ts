import type { Command } from "commander";
import { stringify } from "yaml";
import { ACCESS_KEY_KIND, ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { API_VERSION } from "../api/group.js";
import { RECYCLED_ACCESS_KEY_PLURAL, type RecycledAccessKey, recycledAccessKeyName } from "../api/recycledaccesskey.js";
import { LONG_TERM_ACCESS_KEY_ID } from "../credentials/format.js";
import { issuance, keyNamePrefix } from "./access-keys.js";
import { type DryRunMode, type OutputFormat, type PluginCommand, withDryRun, withExamples, withOutput, withYes } from "./command.js";
import { PluginError, UsageError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, withMfaCode } from "./mfa-code.js";
import { renderObjects } from "./output.js";
import { confirmTyped } from "./prompt.js";
import { renderRecycleBin } from "./recycle-bin-table.js";
import { Kind, type KeygateObject } from "./resources.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

const RESTORED_WITHIN_MS = 60_000;

function binOf(session: Session): Kind {
  return new Kind(session, RECYCLED_ACCESS_KEY_PLURAL);
}

function checkId(id: string): void {
  if (!LONG_TERM_ACCESS_KEY_ID.test(id)) throw new UsageError(`ID must be a long-term access key id (KGAK and 16 base32 characters), not "${id}"`);
}

async function binned(session: Session, id: string): Promise<RecycledAccessKey> {
  checkId(id);
  const found = await binOf(session).get(recycledAccessKeyName(id));
  if (!found) throw new PluginError(`access key ${id} is not in the recycle bin of namespace ${session.namespace} (purged, expired, restored, or never deleted here)`);
  return found as RecycledAccessKey;
}

async function list(options: { output?: OutputFormat; user?: string }, command: Command): Promise<void> {
  const session = sessionOf(command);
  const selector = options.user === undefined ? undefined : `spec.user=${options.user}`;
  const keys = (await binOf(session).list(selector)) as RecycledAccessKey[];
  if (options.output === "json" || options.output === "yaml") return void process.stdout.write(renderObjects(options.output, keys, false));
  if (keys.length === 0) return void process.stderr.write(`The recycle bin of ${session.namespace} is empty.\n`);
  process.stdout.write(renderRecycleBin(keys, { now: new Date(), wide: options.output === "wide" }));
}

interface RestoreOptions {
  name?: string;
  mfaCode?: string;
  dryRun?: DryRunMode;
}

function restoreManifest(session: Session, key: RecycledAccessKey, name: string | undefined, code: string | undefined): KeygateObject {
  const naming = name === undefined ? { generateName: keyNamePrefix(key.spec.user) } : { name };
  const description = key.spec.description === undefined ? {} : { description: key.spec.description };
  return {
    apiVersion: API_VERSION,
    kind: ACCESS_KEY_KIND,
    metadata: { ...naming, namespace: session.namespace, annotations: mfaCodeAnnotations(code) },
    spec: { user: key.spec.user, restoreFrom: key.spec.accessKeyId, ...description },
  };
}

// The secret comes back unchanged into the new key's Secret; it is not shown: whoever had it still has it.
async function restore(id: string, options: RestoreOptions, command: Command): Promise<void> {
  const session = sessionOf(command);
  const key = await binned(session, id);
  if (options.dryRun === "client") return void process.stdout.write(stringify(restoreManifest(session, key, options.name, options.mfaCode)));
  const code = await mfaCodeFor(session, options.mfaCode);
  const created = await new Kind(session, ACCESS_KEY_PLURAL).create(restoreManifest(session, key, options.name, code), options.dryRun);
  printWarnings(created.warnings);
  const name = created.object.metadata?.name ?? "";
  if (options.dryRun === "server") return void process.stdout.write(`accesskey/${name} created to restore ${id} (server dry run)\n`);
  process.stderr.write(`Waiting for accesskey/${name} to restore ${id}...\n`);
  const issued = await waitForObject(session, { plural: ACCESS_KEY_PLURAL, name }, issuance, RESTORED_WITHIN_MS);
  process.stdout.write(`access key ${id} of user ${key.spec.user} restored as accesskey/${name}; its secret is unchanged, in Secret ${issued.secretName}\n`);
}

async function purge(id: string, options: { yes?: boolean; dryRun?: DryRunMode }, command: Command): Promise<void> {
  const session = sessionOf(command);
  const key = await binned(session, id);
  const name = key.metadata.name ?? "";
  if (options.dryRun === "client") return void process.stdout.write(`recycledaccesskey/${name} deleted (dry run)\n`);
  const bin = binOf(session);
  if (options.yes !== true && options.dryRun === undefined) {
    await bin.delete(name, { dryRun: "server", uid: key.metadata.uid });
    process.stderr.write(`Purging access key ${id} of user ${key.spec.user} destroys it for good: it can never be restored.\n`);
    await confirmTyped(`purging ${id}`, id);
  }
  printWarnings(await bin.delete(name, { dryRun: options.dryRun, uid: key.metadata.uid }));
  process.stdout.write(`access key ${id} purged${options.dryRun === "server" ? " (server dry run)" : " for good"}\n`);
}

function registerList(bin: Command): void {
  const command = bin.command("list", { isDefault: true }).description("list the deleted keys still restorable (the default)").option("--user <user>", "one user's only");
  withExamples(withOutput(command), ["kubectl keygate recycle-bin", "kubectl keygate recycle-bin list --user alice -o wide"]).action(list);
}

function registerRestore(bin: Command): void {
  const command = bin
    .command("restore")
    .description("bring a deleted key back, same id and secret, as a new AccessKey of its user (if the user has room: two keys at most)")
    .argument("<id>", "the deleted key's access key id")
    .option("--name <name>", "the new AccessKey's name (default: generated from the user name)");
  withExamples(withDryRun(withMfaCode(command)), ["kubectl keygate recycle-bin restore KGAKQ3VXN5PLR7TW2MZE --name alice-restored"]).action(restore);
}

function registerPurge(bin: Command): void {
  const command = bin.command("purge").description("destroy a deleted key for good, after typing its id").argument("<id>", "the deleted key's access key id");
  withExamples(withYes(withDryRun(command)), ["kubectl keygate recycle-bin purge KGAKQ3VXN5PLR7TW2MZE", "kubectl keygate recycle-bin purge KGAKQ3VXN5PLR7TW2MZE --yes"]).action(purge);
}

export const recycleBinCommand: PluginCommand = {
  register(program) {
    const bin = program.command("recycle-bin").description("deleted access keys: list them, restore one, or purge one for good");
    withExamples(bin, [
      "kubectl keygate recycle-bin",
      "kubectl keygate recycle-bin restore KGAKQ3VXN5PLR7TW2MZE",
      "kubectl keygate recycle-bin purge KGAKQ3VXN5PLR7TW2MZE",
    ]);
    registerList(bin);
    registerRestore(bin);
    registerPurge(bin);
  },
};
