// Prints the vitest JSON report as one plain line, "vitest: N passed, N failed, N skipped".
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? ".keygate/test-report.json";
try {
  const report = JSON.parse(readFileSync(path, "utf8"));
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
} catch (error) {
  console.log(`vitest: no report at ${path} (${error.message}); the tests did not run`);
  process.exitCode = 1;
}
