import { cpus, loadavg, platform, release, totalmem } from "node:os";

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started and when it ended: other work on the machine. */
  readonly loadAverage: { start: number; end: number };
}

export function describeMachine(loadAtStart: number): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? "unknown",
    cores: list.length,
    node: process.version,
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? Number.NaN },
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? Number.NaN;
}
