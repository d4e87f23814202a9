import type { PluginCommand } from "./command.js";
import { completionCommand } from "./completion.js";
import { createKeyCommand } from "./create-key.js";
import { mfaCommand } from "./mfa.js";
import { rotateCommand } from "./rotate.js";
import { sessionCommand } from "./session-command.js";

/** Every `kubectl keygate` command, in the order `--help` lists them; one line per command module. */
export const PLUGIN_COMMANDS: readonly PluginCommand[] = [
  createKeyCommand,
  rotateCommand,
  mfaCommand,
  sessionCommand,
  completionCommand,
];
