#!/usr/bin/env node
// The installed CLI runs the compiled production program (`npm run build` writes dist/). From a
// clone, `npm run keygate` runs the sources through tsx, with the development commands too.
import "../dist/cli/main.js";
