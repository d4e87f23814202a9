import type { Command } from "commander";
import { ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { asAccessKey } from "./access-keys.js";
import { type OutputFormat, type PluginCommand, withExamples, withOutput } from "./command.js";
import { renderKeyTable, staleWarnings } from "./key-table.js";
import { renderObjects } from "./output.js";
import { Kind } from "./resources.js";
import { userOrSelf } from "./self.js";
import { sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";

interface KeysOptions {
  output?: OutputFormat;
  allUsers?: boolean;
}

async function listKeys(userArgument: string | undefined, options: KeysOptions, command: Command): Promise<void> {
  const session = sessionOf(command);
  const selector = options.allUsers ? undefined : `spec.user=${await userOrSelf(session, userArgument)}`;
  const keys = (await new Kind(session, ACCESS_KEY_PLURAL).list(selector)).map(asAccessKey);
  if (options.output === "json" || options.output === "yaml") {
    process.stdout.write(renderObjects(options.output, keys, false));
    return;
  }
  if (keys.length === 0) {
    process.stderr.write(`No access keys found in ${session.namespace}${selector ? ` for user ${selector.slice("spec.user=".length)}` : ""}.\n`);
    return;
  }
  process.stdout.write(renderKeyTable(keys, { now: new Date(), wide: options.output === "wide", allUsers: options.allUsers === true }));
  printWarnings(staleWarnings(keys));
}

export const keysCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("keys")
      .description('list access keys, as the consoles\' "my credentials" page: id, state, created, last use, age warnings')
      .argument("[user]", "whose keys (default: yours)")
      .option("-A, --all-users", "every user's keys in the namespace");
    withExamples(withOutput(command), [
      "# your keys",
      "kubectl keygate keys",
      "# bob's, with names and descriptions",
      "kubectl keygate keys bob -o wide",
      "# every user's keys of team-a, as JSON",
      "kubectl keygate keys --all-users -n team-a -o json",
    ]).action(listKeys);
  },
};
