import type { PluginCommand } from "./command.js";
import { completionCommand } from "./completion.js";
import { createKeyCommand } from "./create-key.js";

/** Every `kubectl keygate` command, in the order `--help` lists them; one line per command module. */
export const PLUGIN_COMMANDS: readonly PluginCommand[] = [
  createKeyCommand,
  completionCommand,
];
