// The plugin's exit codes, as docs/cli.md documents them: scripts tell a refusal (the cluster or
// the person said no, or the input was wrong) from a command line that could not be parsed.
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

/** A failure the person should read: one line, printed as `error: <message>`, exit code 1. */
export class PluginError extends Error {
  override readonly name = "PluginError";
}

/** A command line that is wrong in a way commander cannot see (a bad argument value): exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
