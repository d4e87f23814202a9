import { defineConfig } from "vitest/config";

// Unit tests need no cluster; integration tests share one real control plane per run, started
// by the global setup of their project only.
export default defineConfig({
  test: {
    // The JSON report lets CI print a one-line summary that any log reader understands.
    reporters: ["default", ["json", { outputFile: ".keygate/test-report.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: "forks",
          // One operator at a time: its admission webhook registration is cluster-wide.
          fileParallelism: false,
        },
      },
    ],
  },
});
