import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// `npm run test:e2e`: the images built from this repository, run on a local Docker engine. Apart
// from vitest.config.ts (`npm test`), which never includes test/e2e: these tests need root, and
// a cold run builds every image (debootstrap, npm ci).

const PREREQUISITES = ".keygate/e2e-prerequisites.json";

/** The verdict of scripts/ensure-e2e-deps.mjs; none when vitest is run without it (then nothing skips). */
function skipReason(): string | null {
  try {
    const verdict = JSON.parse(readFileSync(PREREQUISITES, "utf8")) as { skip?: string | null };
    return verdict.skip ?? null;
  } catch {
    return null;
  }
}

const NODE_SCENARIOS = ["chart", "workload", "leader", "upgrade", "expiry", "lifecycle"];

class NodeScenarioOrder extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => NODE_SCENARIOS.findIndex((name) => file.moduleId.endsWith(`/node/${name}.test.ts`));
    return Promise.resolve([...files].sort((a, b) => rank(a) - rank(b)));
  }
}

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: ".keygate/e2e-report.json" }]],
    // The node's files build on each other: install, use, upgrade, expire, uninstall, stop. (A sequencer
    // is the run's, not a project's.)
    sequence: { sequencer: NodeScenarioOrder },
    projects: [
      {
        test: {
          name: "e2e",
          // Before the node's project, not beside it: both build images and start control planes.
          sequence: { groupOrder: 0 },
          include: ["test/e2e/*.test.ts"],
          pool: "forks",
          // One file at a time: they share the Docker engine, the image builds and the machine.
          fileParallelism: false,
          testTimeout: 300_000,
          // A cold beforeAll builds images (debootstrap, npm ci) and the control-plane binaries.
          hookTimeout: 3_600_000,
          // testcontainers' reaper (Ryuk) is an image from Docker Hub; each test removes its own containers.
          env: { TESTCONTAINERS_RYUK_DISABLED: "true" },
          provide: { e2eSkipReason: skipReason() },
        },
      },
      {
        test: {
          name: "node",
          sequence: { groupOrder: 1 },
          include: ["test/e2e/node/*.test.ts"],
          // `keygate dev --node` as a user runs it (one node per host), for every file of the project.
          globalSetup: ["test/e2e/node/setup.ts"],
          pool: "forks",
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
