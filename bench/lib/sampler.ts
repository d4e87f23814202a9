import { performance } from "node:perf_hooks";

/** One thing to measure: `run(n)` performs n operations and returns how many succeeded. */
export interface Case {
  readonly name: string;
  /** Called before each sample (fresh per-sample state such as a replay cache). */
  readonly beforeSample?: () => void;
  readonly run: (operations: number) => number;
}

export interface SamplerOptions {
  readonly warmupMs: number;
  readonly sampleMs: number;
  readonly rounds: number;
  /** Operations between two looks at the clock. */
  readonly batch: number;
}

export interface CaseSamples {
  readonly name: string;
  /** Operations per second, one value per round. */
  readonly opsPerSecond: number[];
  /** Operations whose result was not the expected one (must stay 0: otherwise we timed a denial). */
  readonly failures: number;
}

interface Sample {
  readonly perSecond: number;
  readonly failures: number;
}

function sample(testCase: Case, durationMs: number, batch: number): Sample {
  testCase.beforeSample?.();
  let operations = 0;
  let succeeded = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    succeeded += testCase.run(batch);
    operations += batch;
    elapsed = performance.now() - start;
  }
  return { perSecond: (operations * 1000) / elapsed, failures: operations - succeeded };
}

/**
 * Warms every case up, then takes `rounds` samples of each, interleaved (A, B, C, A, B, C, …),
 * so that a burst of load from another process lands on all cases of a round alike and the
 * per-round ratios stay meaningful on a shared machine.
 */
export function sampleInterleaved(cases: readonly Case[], options: SamplerOptions): CaseSamples[] {
  const results: Array<{ name: string; opsPerSecond: number[]; failures: number }> = cases.map((testCase) => ({
    name: testCase.name,
    opsPerSecond: [],
    failures: 0,
  }));
  for (const testCase of cases) sample(testCase, options.warmupMs, options.batch);
  for (let round = 0; round < options.rounds; round++) {
    cases.forEach((testCase, i) => {
      const measured = sample(testCase, options.sampleMs, options.batch);
      const result = results[i];
      if (result === undefined) return;
      result.opsPerSecond.push(measured.perSecond);
      result.failures += measured.failures;
    });
  }
  return results;
}
