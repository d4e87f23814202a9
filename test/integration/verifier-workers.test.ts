import { type ChildProcess, spawn } from "node:child_process";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessKey } from "../../src/api/accesskey.js";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import { apply, getKey, GROUP, manifest, PLURAL, readSecretData, VERSION, waitForReason } from "../support/accesskeys.js";
import { controlPlane, kubeConfig, useNamespace } from "../support/cluster.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { signAcs3 } from "../support/signers/acs3.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { type HttpAnswer, httpSend, postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const REQUEST: HttpRequestDescription = { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", "api.example.test"]] };
const LAST_USED_INTERVAL_MS = 4_000;

interface LogLine {
  readonly msg?: string;
  readonly pid?: number;
  readonly url?: string;
  readonly code?: string;
  readonly ready?: boolean;
}

/** `keygate verifier --workers 2` as a process of its own, as the chart runs it. */
class PodProcess {
  private output = "";
  readonly child: ChildProcess;

  constructor(operatorNamespace: string) {
    const args = [
      "--import", "tsx", "src/cli/main.ts", "verifier",
      "--kubeconfig", controlPlane().kubeconfigPath,
      "--namespace", operatorNamespace,
      "--verifier-host", "127.0.0.1", "--verifier-port", "0",
      "--workers", "2",
      "--shutdown-delay", "3s",
      "--last-used-interval", `${LAST_USED_INTERVAL_MS / 1000}s`,
    ];
    this.child = spawn(process.execPath, args, { env: { ...process.env, KEYGATE_LOG_LEVEL: "debug" }, stdio: "pipe" });
    this.child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  lines(): LogLine[] {
    return this.output.split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }

  /** Workers that said they listen, by pid, in order. */
  listening(): LogLine[] {
    return this.lines().filter((line) => line.msg === "verifier listening");
  }

  url(): string {
    const url = this.listening()[0]?.url;
    if (url === undefined) throw new Error(`no worker listens yet:\n${this.output}`);
    return url;
  }

  text(): string {
    return this.output;
  }

  exited(): Promise<NodeJS.Signals | number | null> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
    return new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyz(url: string): Promise<number> {
  return (await httpSend(url, { method: "GET", target: "/readyz", headers: [["Host", "verifier"]] }).catch(() => ({ status: 0 }))).status;
}

/** The sum of a metric's samples whose labels include all of `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

describe("keygate verifier --workers 2 against the real API server", () => {
  const ns = useNamespace("vwk");
  let op: TestOperator;
  let pod: PodProcess;
  let key: { accessKeyId: string; secret: string };

  const sigv4 = (): HttpRequestDescription => signSigV4(REQUEST, { ...key, region: "eu-central-1", service: "things" }, new Date());
  const send = (request: HttpRequestDescription): Promise<HttpAnswer> => postVerify(pod.url(), verifyBody(request));
  const metrics = async (): Promise<string> => (await httpSend(pod.url(), { method: "GET", target: "/metrics", headers: [["Host", "verifier"]] })).text;

  beforeAll(async () => {
    op = await startTestOperator();
    await apply(ns, [manifest("shared", { user: "alice" })]);
    const issued = await waitForReason(ns, "shared", "Issued");
    const data = await readSecretData(ns, issued.status?.secretRef?.name ?? "");
    key = { accessKeyId: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    pod = new PodProcess(op.namespace);
    await waitFor("both workers to listen", () => Promise.resolve(pod.listening().length === 2 ? true : undefined), 90_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${pod.text()}`);
    });
    await waitFor("the Pod to be ready", async () => ((await readyz(pod.url())) === 200 ? true : undefined), 60_000);
  });

  afterAll(async () => {
    pod.child.kill("SIGKILL");
    await op.operator.stop();
  });

  it("serves on one port from two worker processes, each with its own index", () => {
    const listening = pod.listening();
    expect(new Set(listening.map((line) => line.pid)).size).toBe(2);
    expect(new Set(listening.map((line) => line.url)).size).toBe(1);
    for (const line of listening) expect(line.pid !== undefined && alive(line.pid)).toBe(true);
  });

  it("refuses an ACS3 nonce replayed to the other worker (the primary holds the one replay store)", async () => {
    const captured = signAcs3(REQUEST, key, new Date());
    const answers: string[] = [];
    // A connection each: the primary hands new connections to the workers in turn.
    for (let i = 0; i < 6; i++) {
      const answer = await send(captured);
      answers.push(answer.json.allowed === true ? "allowed" : String(answer.json.code));
    }
    expect(answers).toEqual(["allowed", ...Array<string>(5).fill("SignatureNonceUsed")]);
    // Each worker logged some of the refusals: so at least one replay reached the worker that did not allow it.
    const refusedBy = new Set(pod.lines().filter((line) => line.msg === "verification refused" && line.code === "SignatureNonceUsed").map((line) => line.pid));
    expect(refusedBy.size).toBe(2);
  });

  it("shows the whole Pod in /metrics: every worker's answers, and the workers", async () => {
    const allowed = { endpoint: "verify", scheme: "AWS4-HMAC-SHA256", code: "Allowed" };
    const before = metricSum(await metrics(), "keygate_verifier_verifications_total", allowed);
    for (let i = 0; i < 6; i++) expect((await send(sigv4())).status).toBe(200);
    const after = await metrics();
    expect(metricSum(after, "keygate_verifier_verifications_total", allowed) - before).toBe(6);
    expect(metricSum(after, "keygate_verifier_workers")).toBe(2);
    expect(metricSum(after, "keygate_verifier_workers_ready")).toBe(2);
    expect(metricSum(after, "keygate_verifier_index_ready")).toBe(1);
    expect(metricSum(after, "keygate_verifier_index_keys", { state: "Active" })).toBeGreaterThanOrEqual(1);
    expect(metricSum(after, "keygate_verifier_replay_cache_entries")).toBeGreaterThanOrEqual(1);
  });

  it("writes a key's last use from one place: at most once per interval, never backwards", async () => {
    const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const written: string[] = [];
    const watch = new k8s.Watch(kubeConfig());
    const request = await watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${ns.name}/${PLURAL}`,
      { fieldSelector: "metadata.name=shared" },
      (_type: string, object: AccessKey) => {
        const time = object.status?.lastUsed?.time;
        if (time !== undefined && written.at(-1) !== time) written.push(time);
      },
      () => undefined,
    );
    try {
      // Let the uses of the tests before settle into one write, then start a fresh interval.
      await new Promise((resolve) => setTimeout(resolve, 2 * LAST_USED_INTERVAL_MS + 1000));
      written.length = 0;
      const burstStart = Date.now();
      for (let i = 0; i < 7; i++) expect((await send(sigv4())).status).toBe(200);
      const beforeLast = new Date();
      expect((await send(sigv4())).status).toBe(200);
      const burstMs = Date.now() - burstStart;
      await waitFor("the last use to be written", async () => {
        const shown = (await getKey(ns, "shared"))?.status?.lastUsed?.time;
        return shown !== undefined && Date.parse(shown) >= beforeLast.getTime() ? true : undefined;
      }, 4 * LAST_USED_INTERVAL_MS);
      // Two workers each writing would be up to four writes; one writer for the Pod: the first use at once, the latest at the interval's end.
      expect(written.length).toBeLessThanOrEqual(2 + Math.floor(burstMs / LAST_USED_INTERVAL_MS));
      expect([...written].sort()).toEqual(written);
      const final = await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name: "shared" }) as AccessKey;
      expect(final.status?.lastUsed?.time).toBe(written.at(-1));
    } finally {
      request.abort();
    }
  });

  it("restarts a worker that dies; the Pod is not ready until the new one has synced", async () => {
    const [victim] = pod.listening().map((line) => line.pid ?? 0);
    const mark = pod.lines().length;
    process.kill(victim ?? 0, "SIGKILL");
    await waitFor("a new worker to listen", () => Promise.resolve(pod.listening().length === 3 ? true : undefined), 60_000);
    await waitFor("the Pod to be ready again", async () => ((await readyz(pod.url())) === 200 ? true : undefined), 60_000);
    const after = pod.lines().slice(mark).map((line) => line.msg);
    expect(after).toContain("verifier worker died; starting another");
    expect(after.indexOf("verifier pod not ready")).toBeGreaterThanOrEqual(0);
    expect(after.indexOf("verifier pod ready")).toBeGreaterThan(after.indexOf("verifier pod not ready"));
    expect(metricSum(await metrics(), "keygate_verifier_worker_restarts_total")).toBe(1);
    expect((await send(sigv4())).status).toBe(200);
  });

  it("drains every worker on SIGTERM: not ready, still answering with Connection: close, last uses written, exit 0", async () => {
    const url = pod.url();
    const pids = pod.listening().map((line) => line.pid ?? 0).filter(alive);
    expect(pids).toHaveLength(2);
    pod.child.kill("SIGTERM");
    await waitFor("/readyz to say 503", async () => ((await readyz(url)) === 503 ? true : undefined), 2_500);
    // Both workers drain: fresh connections reach each in turn, and each answers, closing.
    const usedAt = new Date();
    for (let i = 0; i < 4; i++) {
      const answer = await send(sigv4());
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe("close");
    }
    expect(await pod.exited()).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    const shown = (await getKey(ns, "shared"))?.status?.lastUsed?.time;
    expect(Date.parse(shown ?? "")).toBeGreaterThanOrEqual(usedAt.getTime() - 1000);
  });
});
