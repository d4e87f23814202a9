import { Command, CommanderError } from "commander";
import { type PluginCommand } from "./command.js";
import { errorLine, exitCodeOf } from "./errors.js";
import { PLUGIN_COMMANDS } from "./registry.js";
import { STRIP_USERNAME_PREFIXES_ENV } from "./session.js";

const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  refused or failed: bad input, a confirmation not given, the API server or its admission webhook said no
  2  usage error: an unknown command or option, a missing or malformed argument
`;

/** `kubectl keygate`: the program with every registered command and kubectl's connection options. */
export function buildPluginProgram(commands: readonly PluginCommand[] = PLUGIN_COMMANDS): Command {
  const program = new Command("kubectl keygate")
    .usage("[options] <command>")
    .description("The clouds' \"my credentials\" console at the terminal: access keys, MFA devices and sessions of keygate")
    .option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG, else ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use (default: the current context)")
    .option("-n, --namespace <namespace>", "namespace, the account (default: the context's namespace, else default)")
    .option(
      "--strip-username-prefixes <list>",
      `comma-separated prefixes removed from your username to find your keygate user, as the operator's flag of that name (or ${STRIP_USERNAME_PREFIXES_ENV})`,
    )
    .addHelpText("after", EXIT_CODES_HELP)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(message.trimEnd().split("\n")[0] + "\n") });
  for (const command of commands) command.register(program);
  return program;
}

/** Runs the program on `argv`; a failure is one `error: …` line on stderr. Resolves to the exit code. */
export async function runPlugin(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has printed its own message already.
    if (!(error instanceof CommanderError)) process.stderr.write(`error: ${errorLine(error)}\n`);
    return exitCodeOf(error);
  }
}
