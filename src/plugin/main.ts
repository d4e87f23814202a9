// The kubectl plugin's entry point: bin/kubectl-keygate runs its compiled form, `npm run
// kubectl-keygate --` its sources.
import { buildPluginProgram, runPlugin } from "./program.js";

// A command is done when its action is: what a terminal prompt or the HTTP client leaves behind
// must not keep the person waiting. Output to a terminal, a pipe or a file is written
// synchronously on Linux and macOS, so nothing printed is lost.
process.exit(await runPlugin(buildPluginProgram(), process.argv));
