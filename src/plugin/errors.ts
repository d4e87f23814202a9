import { ApiException } from "@kubernetes/client-node";
import { CommanderError } from "commander";
import { parseJson } from "../json.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, UsageError } from "./exit.js";

/** The exit code for what a command threw. */
export function exitCodeOf(error: unknown): number {
  // Commander ends with 0 only for --help; any other of its exits is a command line it could not parse.
  if (error instanceof CommanderError) return error.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE;
  if (error instanceof UsageError) return EXIT_USAGE;
  return EXIT_REFUSED;
}

// The API server's Status message is what kubectl prints too: an admission webhook's refusal
// arrives there verbatim.
function statusMessage(body: unknown): string | undefined {
  const parsed: unknown = typeof body === "string" ? parseJson(body) : body;
  const message = (parsed as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : undefined;
}

function rawMessage(error: unknown): string {
  if (error instanceof ApiException) return statusMessage(error.body) ?? `the API server answered HTTP ${error.code}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The one line printed for a failure, without the `error: ` prefix. */
export function errorLine(error: unknown): string {
  return rawMessage(error).replace(/\s*\n\s*/g, " ").trim();
}
