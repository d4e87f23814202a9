// The production entry point (the image and bin/keygate.js run its compiled form). It must not
// import the development commands: tsconfig.build.json compiles only what this file reaches.
import { buildProgram, runProgram } from "./program.js";

await runProgram(buildProgram());
