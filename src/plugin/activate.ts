import type { Command } from "commander";
import { type PluginCommand, withDryRun, withExamples } from "./command.js";
import { withMfaCode } from "./mfa-code.js";
import { sessionOf } from "./session.js";
import { setKeyState, type SetStateOptions } from "./set-key-state.js";

export const activateCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("activate")
      .description("make an inactive access key verify requests again")
      .argument("<key>", "the AccessKey's name or its access key id");
    withExamples(withDryRun(withMfaCode(command)), [
      "kubectl keygate activate KGAKQ3VXN5PLR7TW2MZE",
      "# under operation protection",
      "kubectl keygate activate alice-x7k2p --mfa-code 123456",
    ]).action((key: string, options: SetStateOptions, self: Command) => setKeyState(sessionOf(self), key, "Active", options));
  },
};
