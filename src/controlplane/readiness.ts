import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { ManagedProcess } from "./process.js";
import { readFile } from "node:fs/promises";
import { lastLines } from "./exec.js";

export interface ProbeTls {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/** One GET; resolves to the status code, or undefined when nothing answered. */
export function probe(url: string, tls: ProbeTls = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const options = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: !tls.insecure,
      timeout: 2000,
    };
    const send = url.startsWith("https:") ? request : httpRequest;
    const req = send(url, options, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

async function logTail(process: ManagedProcess): Promise<string> {
  try {
    return lastLines(await readFile(process.logFile, "utf8"), 25);
  } catch {
    return "(no log)";
  }
}

/** Polls until the URL answers 200; fails early, with the component's log, if it exits. */
export async function waitUntilHealthy(
  component: ManagedProcess,
  url: string,
  tls: ProbeTls,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (component.hasExited()) {
      throw new Error(`${component.name} exited during start-up; its log ends with:\n${await logTail(component)}`);
    }
    if ((await probe(url, tls)) === 200) return;
    await sleep(250);
  }
  throw new Error(
    `${component.name} was not healthy at ${url} within ${timeoutMs / 1000}s; its log ends with:\n${await logTail(component)}`,
  );
}
