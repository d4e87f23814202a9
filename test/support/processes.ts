import { readdir, readFile } from "node:fs/promises";

/** Pids of live processes whose command line mentions the marker (a unique state directory). */
export async function processesMentioning(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const state = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // A zombie has exited already; it only waits for its parent to reap it.
    if (cmdline.includes(marker) && !/^\d+ \(.*\) Z /.test(state)) pids.push(Number(entry));
  }
  return pids;
}
