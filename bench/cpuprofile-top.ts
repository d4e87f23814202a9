// Lists the frames with the most self time in a V8 .cpuprofile (as written by node --cpu-prof),
// and with --total the functions with the most inclusive time (self plus callees). Shares are of
// the busy samples: a server's profile is mostly (idle) between load runs, which says nothing.
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

export interface Frame {
  readonly frame: string;
  readonly percent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  const file = url === "" ? "" : ` ${url.replace(/^.*\/(src|bench|node_modules)\//, "$1/").replace(/^file:\/\//, "")}`;
  return `${functionName === "" ? "(anonymous)" : functionName}${file}`;
}

function parents(profile: Profile): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  return parentOf;
}

/** Labels charged for one sample: the leaf only (self), or every distinct function on its stack (total). */
function charged(leaf: number, byId: Map<number, ProfileNode>, parentOf: Map<number, number> | undefined): Set<string> {
  const labels = new Set<string>();
  for (let id: number | undefined = leaf; id !== undefined; id = parentOf?.get(id)) {
    const node = byId.get(id);
    if (node !== undefined) labels.add(label(node));
    if (parentOf === undefined) break;
  }
  return labels;
}

export function topFrames(path: string, limit: number, inclusive = false): Frame[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = inclusive ? parents(profile) : undefined;
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of profile.samples) {
    if (byId.get(id)?.callFrame.functionName === "(idle)") continue;
    total++;
    for (const key of charged(id, byId, parentOf)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, count]) => ({ frame, percent: Math.round((count / Math.max(1, total)) * 1000) / 10 }));
}

if (process.argv[1]?.endsWith("cpuprofile-top.ts") === true) {
  const args = process.argv.slice(2);
  const inclusive = args.includes("--total");
  const [path, limit] = args.filter((arg) => arg !== "--total");
  if (path === undefined) throw new Error("usage: tsx bench/cpuprofile-top.ts <file.cpuprofile> [limit] [--total]");
  for (const { frame, percent } of topFrames(path, Number(limit ?? "25"), inclusive)) {
    console.log(`${percent.toFixed(1).padStart(5)}%  ${frame}`);
  }
}
