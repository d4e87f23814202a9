import type { Command } from "commander";
import { ACCESS_KEY_PLURAL, type AccessKey } from "../api/accesskey.js";
import { type DryRunMode, type PluginCommand, withDryRun, withExamples, withYes } from "./command.js";
import { findAccessKey, keyLabel } from "./find-key.js";
import { confirmTyped, requireTerminal } from "./prompt.js";
import { Kind } from "./resources.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";

interface DeleteOptions {
  yes?: boolean;
  dryRun?: DryRunMode;
}

// The webhook refuses an Active key and warns of a recent use on a dry run as on the real
// delete: asked first, it tells the person before they confirm, in its own words.
async function confirmDelete(kind: Kind, key: AccessKey): Promise<readonly string[]> {
  const warnings = await kind.delete(key.metadata.name ?? "", { dryRun: "server", uid: key.metadata.uid });
  requireTerminal(`deleting ${keyLabel(key)}`);
  printWarnings(warnings);
  process.stderr.write(`Deleting ${keyLabel(key)} of user ${key.spec.user}: it moves to the recycle bin, restorable until it expires.\n`);
  await confirmTyped(`deleting ${keyLabel(key)}`, key.status?.accessKeyId ?? key.metadata.name ?? "");
  return warnings;
}

async function deleteKey(session: Session, keyArgument: string, options: DeleteOptions): Promise<void> {
  const key = await findAccessKey(session, keyArgument);
  const kind = new Kind(session, ACCESS_KEY_PLURAL);
  if (options.dryRun === "client") return void process.stdout.write(`${keyLabel(key)} deleted (dry run)\n`);
  const shown = options.yes === true || options.dryRun !== undefined ? [] : await confirmDelete(kind, key);
  const warnings = await kind.delete(key.metadata.name ?? "", { dryRun: options.dryRun, uid: key.metadata.uid });
  printWarnings(warnings.filter((warning) => !shown.includes(warning)));
  if (options.dryRun === "server") return void process.stdout.write(`${keyLabel(key)} deleted (server dry run)\n`);
  const id = key.status?.accessKeyId;
  process.stdout.write(`${keyLabel(key)} deleted${id ? `: in the recycle bin, restorable with kubectl keygate recycle-bin restore ${id}` : ""}\n`);
}

export const deleteKeyCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("delete")
      .description("delete an inactive access key, after typing its id (the key moves to the recycle bin)")
      .argument("<key>", "the AccessKey's name or its access key id");
    withExamples(withYes(withDryRun(command)), [
      "# deactivate first, then delete: asks to type the access key id",
      "kubectl keygate deactivate KGAKQ3VXN5PLR7TW2MZE && kubectl keygate delete KGAKQ3VXN5PLR7TW2MZE",
      "# in a script",
      "kubectl keygate delete alice-x7k2p --yes",
    ]).action((key: string, options: DeleteOptions, self: Command) => deleteKey(sessionOf(self), key, options));
  },
};
