// The benchmark's server processes run compiled JavaScript, as production does (dist/ is built by
// tsc): the entry points are compiled by the project's own tsc, with the project's compiler
// options, into .keygate/bench-build/. `--tsx` runs them from the TypeScript sources instead.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = `${ROOT}.keygate/bench-build/`;
const TSC = `${ROOT}node_modules/typescript/bin/tsc`;

/** Compiles the given entry points (paths relative to the repository) and answers the .js path of each. */
export function compileEntries(entries: readonly string[]): Promise<string[]> {
  mkdirSync(OUT, { recursive: true });
  const config = {
    extends: "../../tsconfig.json",
    compilerOptions: { noEmit: false, outDir: ".", rootDir: "../..", sourceMap: false, declaration: false },
    files: entries.map((entry) => `../../${entry}`),
    include: [],
  };
  writeFileSync(`${OUT}tsconfig.json`, `${JSON.stringify(config, null, 2)}\n`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSC, "-p", `${OUT}tsconfig.json`], { timeout: 180_000 }, (error, stdout) => {
      // Type errors elsewhere in a tree others are editing still emit JavaScript; say so, and go on.
      if (error && error.code !== 2) return reject(new Error(`tsc failed: ${stdout.slice(0, 2000)}`, { cause: error }));
      if (error) console.warn(`tsc reported type errors; the emitted JavaScript is used anyway:\n${stdout.slice(0, 2000)}`);
      resolve(entries.map((entry) => `${OUT}${entry.replace(/\.ts$/, ".js")}`));
    });
  });
}
