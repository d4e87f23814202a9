import autocannon from "autocannon";
import type { LoadRequest } from "./requests.js";

export interface LoadOptions {
  readonly url: string;
  readonly requests: readonly LoadRequest[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** A cap on requests as well as on time, whichever comes first. */
  readonly maxRequests: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly completed: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly durationSeconds: number;
}

// Autocannon's own latency histogram counts whole milliseconds; the response event carries
// the exact time, so percentiles are taken from that instead.
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

class Latencies {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  summary(): LoadResult["latencyMs"] {
    const sorted = this.values.slice(0, this.count).sort();
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: percentile(sorted, 1) };
  }
}

/** Keep-alive load on one URL for a bounded time and count; rejects if it does not finish in time. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Latencies();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        maxOverallRequests: options.maxRequests,
        requests: options.requests.map((request) => ({ ...request })),
        setupClient: (client) => {
          client.on("response", (_status: number, _bytes: number, responseTime: number) => latencies.add(responseTime));
        },
      },
      (error: unknown, result) => {
        clearTimeout(watchdog);
        if (error !== null && error !== undefined) return reject(error instanceof Error ? error : new Error("the load generator failed", { cause: error }));
        resolve({
          requestsPerSecond: result.requests.total / result.duration,
          completed: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          latencyMs: latencies.summary(),
          durationSeconds: result.duration,
        });
      },
    );
    const watchdog = setTimeout(() => {
      instance.stop();
      reject(new Error(`load on ${options.url} did not finish within ${options.durationSeconds + 15} s`));
    }, (options.durationSeconds + 15) * 1000);
  });
}
