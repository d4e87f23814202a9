// Started detached by startNode, with a pipe from the starter as its stdin. The pipe closes when
// the starter exits, however it exits (SIGKILL included, which no handler of the starter sees),
// and then this cleans the host of the node.
import { appendFileSync } from "node:fs";
import { cleanNode } from "./node-cleanup.js";

const log = process.argv[2];

function note(message: string): void {
  if (log) appendFileSync(log, `${new Date().toISOString()} ${message}\n`);
}

process.stdin.on("data", () => undefined);
process.stdin.once("close", () => {
  note("the node's starter is gone; cleaning up");
  cleanNode().then(
    () => {
      note("cleaned");
      process.exit(0);
    },
    (error: unknown) => {
      note(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
});
