// Started detached by prepareNodeHost, with a pipe from the starter as its stdin, and made the
// owner of the node's lock. The pipe closes when the starter exits, however it exits (SIGKILL
// included, which no handler of the starter sees); then this cleans the host of the node and
// releases the lock, so that no new node starts on a host still being cleaned.
import { appendFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cleanNode } from "./node-cleanup.js";
import { NODE_LOCK } from "./node-layout.js";

const log = process.argv[2];

function note(message: string): void {
  if (log) appendFileSync(log, `${new Date().toISOString()} ${message}\n`);
}

process.stdin.on("data", () => undefined);
async function cleanUp(): Promise<void> {
  note("the node's starter is gone; cleaning up");
  try {
    await cleanNode();
    note("cleaned");
  } catch (error) {
    note(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  await rm(NODE_LOCK, { recursive: true, force: true });
  process.exit(0);
}

process.stdin.once("close", () => void cleanUp());
// The starter waits for this line before it changes anything on the host.
process.stdout.write("watching\n");
