import type { Command } from "commander";
import { type PluginCommand, withDryRun, withExamples, withYes } from "./command.js";
import { withMfaCode } from "./mfa-code.js";
import { sessionOf } from "./session.js";
import { setKeyState, type SetStateOptions } from "./set-key-state.js";

export const deactivateCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("deactivate")
      .description("refuse every request signed with an access key from now on (asks y/N first); needed before delete")
      .argument("<key>", "the AccessKey's name or its access key id");
    withExamples(withYes(withDryRun(withMfaCode(command))), [
      "kubectl keygate deactivate KGAKQ3VXN5PLR7TW2MZE",
      "# in a script",
      "kubectl keygate deactivate alice-x7k2p --yes",
    ]).action((key: string, options: SetStateOptions, self: Command) => setKeyState(sessionOf(self), key, "Inactive", options));
  },
};
