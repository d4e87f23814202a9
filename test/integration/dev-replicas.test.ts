import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import { kubectl } from "../support/cluster.js";
import { processesMentioning } from "../support/processes.js";
import { signAcs3 } from "../support/signers/acs3.js";
import { type HttpAnswer, postVerify, verifyBody } from "../support/verifier-http.js";
import { acceptsConnections, waitFor } from "../support/wait.js";

interface DevJson {
  kubeconfig: string;
  verifierUrl: string;
  verifierUrls: string[];
}

const REQUEST: HttpRequestDescription = {
  method: "POST",
  rawPath: "/",
  rawQuery: "",
  headers: [["Host", "api.example.test"], ["Content-Type", "application/json"], ["x-acs-action", "Transfer"]],
  body: Buffer.from('{"amount":100}'),
};

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function issueKey(kubeconfig: string): Promise<{ id: string; secret: string }> {
  const file = join(await mkdtemp(join(tmpdir(), "dev-replicas-")), "key.yaml");
  const docs = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "replicas" } },
    { apiVersion: "iam.keygate.dev/v1alpha1", kind: "AccessKey", metadata: { name: "payments", namespace: "replicas" }, spec: { user: "alice" } },
  ];
  await writeFile(file, docs.map((doc) => stringify(doc)).join("---\n"));
  await kubectl(["apply", "-f", file], kubeconfig);
  return waitFor(
    "the issued Secret",
    async () => {
      const { stdout } = await kubectl(["get", "secret", "-n", "replicas", "payments-credentials", "-o", "json", "--ignore-not-found"], kubeconfig);
      if (stdout.trim() === "") return undefined;
      const data = (JSON.parse(stdout) as { data: Record<string, string> }).data;
      const decode = (name: string) => Buffer.from(data[name] ?? "", "base64").toString("utf8");
      return { id: decode("accessKeyId"), secret: decode("secretAccessKey") };
    },
    60_000,
  );
}

describe("keygate dev --verifier-replicas 2", () => {
  it("runs two verifier processes that share one replay store, lists both, and stops them all", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "keygate-dev-"));
    const child = spawn(process.execPath, ["--import", "tsx", "src/dev/cli.ts", "dev", "--state-dir", stateDir, "--verifier-replicas", "2"], { stdio: "pipe" });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const info = await waitFor(
        "dev.json",
        async () => {
          if (child.exitCode !== null) throw new Error(`keygate dev exited early:\n${output}`);
          const text = await readFile(join(stateDir, "dev.json"), "utf8").catch(() => undefined);
          return text === undefined ? undefined : (JSON.parse(text) as DevJson);
        },
        240_000,
      );
      expect(info.verifierUrls).toHaveLength(2);
      expect(new Set(info.verifierUrls).size).toBe(2);
      expect(info.verifierUrl).toBe(info.verifierUrls[0]);
      const redisPort = Number(/redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      expect(await acceptsConnections(redisPort)).toBe(true);

      const key = await issueKey(info.kubeconfig);
      const sign = () => signAcs3(REQUEST, { accessKeyId: key.id, secret: key.secret }, new Date());
      const send = (url: string, request: HttpRequestDescription): Promise<HttpAnswer> => postVerify(url, verifyBody(request));
      // Each replica learns the key from its own watch.
      for (const url of info.verifierUrls) await waitFor(`${url} to know the key`, async () => ((await send(url, sign())).status === 200 ? true : undefined), 30_000);

      const captured = sign();
      const answers = [];
      for (const url of info.verifierUrls) answers.push(await send(url, captured));
      expect(answers.map((answer) => answer.json.allowed === true ? "allowed" : answer.json.code)).toEqual(["allowed", "SignatureNonceUsed"]);

      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
      expect(await processesMentioning(stateDir)).toEqual([]);
      expect(await acceptsConnections(redisPort)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  }, 360_000);
});
