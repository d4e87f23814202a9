// The kubectl plugin's entry point: bin/kubectl-keygate runs its compiled form, `npm run
// kubectl-keygate --` its sources.
import { buildPluginProgram, runPlugin } from "./program.js";

process.exitCode = await runPlugin(buildPluginProgram(), process.argv);
