/** Summary of repeated samples of one quantity: the median is what we report, the rest shows the noise. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median: how far apart the samples were, as a fraction of the median. */
  readonly spread: number;
  readonly samples: readonly number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const m = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  return { median: m, min, max, spread: m === 0 ? 0 : (max - min) / m, samples };
}

/** Element-wise a[i] / b[i]: ratios taken within one round, so both sides saw the same machine load. */
export function pairedRatios(ours: readonly number[], baseline: readonly number[]): number[] {
  return ours.map((value, i) => value / (baseline[i] ?? Number.NaN));
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
