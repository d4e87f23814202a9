import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { REDACTED_PATHS } from "../../src/log.js";
import { type RunningOperator, startOperator } from "../../src/operator/operator.js";
import { kubeConfig } from "./cluster.js";

/** Everything the operator logged during a test file, to scan for leaked secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(chunk.toString("utf8"));
    done();
  }
  text(): string {
    return this.lines.join("");
  }
}

export interface TestOperator {
  operator: RunningOperator;
  namespace: string;
  logs: LogCapture;
  /** The logger writing into `logs`, for components started beside the operator. */
  log: Logger;
  /** Moves the operator's clock forward, for retention and expiry tests. */
  advance(ms: number): void;
}

/**
 * Starts the operator in this process, as `keygate operator` would, with its own operator
 * namespace and a clock the test can move; its webhook is served on 127.0.0.1 and registered
 * with the real API server.
 */
export interface TestOperatorOptions {
  retentionMs?: number;
  /** Join an existing operator namespace (a second replica) instead of creating one. */
  namespace?: string;
  identity?: string;
  leaderElection?: boolean;
}

export async function createOperatorNamespace(): Promise<string> {
  const namespace = `keygate-system-${randomBytes(3).toString("hex")}`;
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  return namespace;
}

export async function startTestOperator(options: TestOperatorOptions = {}): Promise<TestOperator> {
  const kc = kubeConfig();
  const namespace = options.namespace ?? (await createOperatorNamespace());
  const logs = new LogCapture();
  const log = pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, logs);
  let offset = 0;
  const operator = await startOperator({
    kc,
    namespace,
    identity: options.identity ?? `test-${process.pid}`,
    webhook: { host: "127.0.0.1", port: 0, publicHost: "127.0.0.1" },
    recycleRetentionMs: options.retentionMs ?? 30 * 24 * 60 * 60 * 1000,
    leaderElection: options.leaderElection ?? false,
    clock: { now: () => Date.now() + offset, after: (ms, callback) => {
      const handle = setTimeout(callback, ms);
      return () => clearTimeout(handle);
    } },
    log,
  });
  return { operator, namespace, logs, log, advance: (ms) => (offset += ms) };
}
