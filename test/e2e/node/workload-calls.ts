import { setTimeout as sleep } from "node:timers/promises";
import type { NodeCluster } from "./cluster.js";

/** The namespace of the workload scenarios, whose Pods run workload/sign.py. */
export const WORKLOAD_NAMESPACE = "e2e-workload";

/** What the signing loop in a workload Pod prints, one line per call. */
export interface Call {
  readonly at: number;
  readonly status: number;
  readonly body: string;
}

export async function callsOf(cluster: NodeCluster, pod: string): Promise<Call[]> {
  const { stdout } = await cluster.kubectl(["-n", WORKLOAD_NAMESPACE, "logs", pod]);
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Call);
}

const WAIT_MS = 120_000;

/** The first call of the Pod at or after `since` that matches, waiting for it up to 2 minutes. */
export async function firstCall(cluster: NodeCluster, pod: string, since: number, matches: (call: Call) => boolean): Promise<Call> {
  const deadline = Date.now() + WAIT_MS;
  let last: Call[] = [];
  while (Date.now() < deadline) {
    last = await callsOf(cluster, pod).catch(() => []);
    const found = last.find((call) => call.at >= since && matches(call));
    if (found) return found;
    await sleep(500);
  }
  throw new Error(`${pod}: no matching call since ${since}; last calls: ${JSON.stringify(last.slice(-3))}`);
}
