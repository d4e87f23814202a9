import { type Command, Option } from "commander";

/**
 * One `kubectl keygate` command. The registry lists them; a module adds its command (with its
 * arguments, options, help and examples) under the program and runs it from its action, opening a
 * session with `sessionOf(command)`. It throws PluginError for a refusal (exit 1) and UsageError
 * for a bad argument value (exit 2); the program prints the one line.
 */
export interface PluginCommand {
  register(program: Command): void;
}

export const OUTPUT_FORMATS = ["json", "yaml", "wide"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const DRY_RUN_MODES = ["client", "server"] as const;
export type DryRunMode = (typeof DRY_RUN_MODES)[number];

/** `-o json|yaml|wide`, for a command that lists or shows. */
export function withOutput(command: Command): Command {
  return command.addOption(new Option("-o, --output <format>", "output format (default: a table)").choices(OUTPUT_FORMATS));
}

/** `--dry-run=client|server`, for a command that writes: client sends nothing, server sends a dry run. */
export function withDryRun(command: Command): Command {
  return command.addOption(
    new Option("--dry-run <mode>", "client: only print what would be sent; server: send it as a dry run, nothing is stored").choices(DRY_RUN_MODES),
  );
}

/** `--yes`, for a command that asks before it acts. */
export function withYes(command: Command): Command {
  return command.option("-y, --yes", "do not ask for confirmation (for scripts)");
}

/** `Examples:` after the options in `--help`, one `$ command` line (and its comment) each. */
export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${examples.map((line) => `  ${line}`).join("\n")}\n`);
}
