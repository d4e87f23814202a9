import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type Frame, topFrames } from "../cpuprofile-top.js";

export interface ProfileSummary {
  readonly file: string;
  readonly self: Frame[];
  readonly total: Frame[];
}

/**
 * The profile of a process's main thread: the loader thread writes one too, but only the main
 * thread ran `marker` (a function name of the code under test).
 */
export function summarizeProfiles(dir: string, marker: string, limit = 15): ProfileSummary | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
  } catch {
    return undefined;
  }
  const main = files.map((name) => join(dir, name)).find((path) => readFileSync(path, "utf8").includes(`"${marker}"`));
  if (main === undefined) return undefined;
  // Relative to the working directory, so a committed result names no machine's paths.
  return { file: relative(process.cwd(), main), self: topFrames(main, limit), total: topFrames(main, limit, true) };
}
