// One restarted verifier, in a process of its own: how long until it is ready, and how much heap
// its key index holds once ready. Started by verifier-index.ts as
//   node --expose-gc --import tsx bench/scale/verifier-index-child.ts <src dir> <kubeconfig> <operator namespace>
// and answers with one line of JSON on stdout. <src dir> is the tree whose verifier is measured
// (the working tree's src, or a snapshot of an older commit), so two versions run the same script.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { getHeapStatistics } from "node:v8";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";

export interface ChildResult {
  /** From the start of the process until the verifier module was loaded. */
  readonly loadMs: number;
  /** From startVerifier() until ready() resolved: the key index has synced. */
  readonly readyMs: number;
  /** From the start of the process until ready. */
  readonly processReadyMs: number;
  /** Keystore records the verifier reports in memory, by state (its index gauge). */
  readonly keys: Record<string, number>;
  /** After a full collection, before startVerifier() and once ready. */
  readonly heapUsedBefore: number;
  readonly heapUsedReady: number;
  readonly externalReady: number;
  readonly rssReady: number;
  /** Largest resident set of the process, while it synced. */
  readonly maxRss: number;
}

interface VerifierModule {
  startVerifier(options: Record<string, unknown>): Promise<{ url: string; ready(): Promise<void>; stop(): Promise<void> }>;
}

const gc = (globalThis as { gc?: () => void }).gc;

function collect(): void {
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 4; i++) gc();
}

async function settle(): Promise<void> {
  // Let timers and pending I/O callbacks run, so what is collected next is what stays.
  await new Promise((resolve) => setTimeout(resolve, 300));
  collect();
}

async function indexGauge(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const keys: Record<string, number> = {};
  for (const match of text.matchAll(/^keygate_verifier_index_keys\{state="(\w+)"\} (\d+)$/gm)) {
    keys[match[1] ?? ""] = Number(match[2]);
  }
  return keys;
}

async function main(): Promise<void> {
  const [srcDir, kubeconfig, operatorNamespace] = process.argv.slice(2);
  if (srcDir === undefined || kubeconfig === undefined || operatorNamespace === undefined) {
    throw new Error("usage: verifier-index-child.ts <src dir> <kubeconfig> <operator namespace>");
  }
  const module = (await import(pathToFileURL(`${srcDir}/verifier/verifier.ts`).href)) as VerifierModule;
  const loadMs = performance.now();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const log = pino({ level: "silent" });
  await settle();
  const heapUsedBefore = getHeapStatistics().used_heap_size;
  const started = performance.now();
  const verifier = await module.startVerifier({
    kc,
    operatorNamespace,
    host: "127.0.0.1",
    port: 0,
    trustedProxies: [],
    trustedCallers: [],
    lastUsedFlushMs: 60_000,
    log,
  });
  await verifier.ready();
  const ready = performance.now();
  const keys = await indexGauge(verifier.url);
  await settle();
  const memory = process.memoryUsage();
  const result: ChildResult = {
    loadMs: Math.round(loadMs),
    readyMs: Math.round(ready - started),
    processReadyMs: Math.round(ready),
    keys,
    heapUsedBefore,
    heapUsedReady: getHeapStatistics().used_heap_size,
    externalReady: memory.external,
    rssReady: memory.rss,
    maxRss: process.resourceUsage().maxRSS * 1024,
  };
  await verifier.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
