import type { PluginCommand } from "./command.js";
import { completionCommand } from "./completion.js";
import { createKeyCommand } from "./create-key.js";
import { keysCommand } from "./keys.js";
import { activateCommand } from "./activate.js";
import { deactivateCommand } from "./deactivate.js";
import { deleteKeyCommand } from "./delete-key.js";
import { whoisCommand } from "./whois.js";
import { recycleBinCommand } from "./recycle-bin.js";
import { mfaCommand } from "./mfa.js";
import { rotateCommand } from "./rotate.js";
import { sessionCommand } from "./session-command.js";

/** Every `kubectl keygate` command, in the order `--help` lists them; one line per command module. */
export const PLUGIN_COMMANDS: readonly PluginCommand[] = [
  createKeyCommand,
  keysCommand,
  activateCommand,
  deactivateCommand,
  deleteKeyCommand,
  whoisCommand,
  recycleBinCommand,
  rotateCommand,
  mfaCommand,
  sessionCommand,
  completionCommand,
];
