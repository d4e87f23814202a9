import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { run } from "../../../src/controlplane/exec.js";
import { importIntoNode } from "../../../src/controlplane/node.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { verifyBody } from "../../support/verifier-http.js";
import { NodeCluster, nodeOrSkip } from "./cluster.js";

// helm upgrade to another image tag while clients keep verifying through the verifier Service:
// readiness, the PodDisruptionBudget and the verifier's drain on SIGTERM (not ready, still
// answering, connections closed after each answer) must together fail no request.

const info = nodeOrSkip("upgrade.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;
const NS = "e2e-upgrade";
const WORKERS = 4;

interface Tally {
  allowed: number;
  failed: string[];
  /** Answers that closed their connection: a draining replica's. */
  closing: number;
}

interface Answer {
  readonly failure: string | undefined;
  readonly closing: boolean;
}

/** One POST /v1/verify on a keep-alive pool, as a gateway's upstream pool would send it. */
function verifyOnce(agent: Agent, url: URL, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path: "/v1/verify", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 10_000 },
      (res) => {
        let text = "";
        const closing = res.headers.connection === "close";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ failure: res.statusCode === 200 && text.includes('"allowed":true') ? undefined : `${res.statusCode}: ${text.slice(0, 200)}`, closing }));
        res.on("error", (error) => resolve({ failure: error.message, closing }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => resolve({ failure: error.message, closing: false }));
    req.end(body);
  });
}

describe.skipIf(!cluster)("helm upgrade under verification load", () => {
  const c = cluster as NodeCluster;
  const { namespace, release } = info ?? { namespace: "", release: "" };

  async function untilNoPodTerminates(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pods = await c.json<{ items: Array<{ metadata: { deletionTimestamp?: string } }> }>(["-n", namespace, "get", "pods", "-l", "app.kubernetes.io/name=keygate"]);
      if (!pods.items.some((pod) => pod.metadata.deletionTimestamp)) return;
      if (Date.now() > deadline) throw new Error("keygate Pods still terminating 2 min after the upgrade");
      await sleep(500);
    }
  }

  it("replaces every keygate Pod with the new image and fails no verification", async () => {
    await c.kubectl(["create", "namespace", NS]);
    await c.apply(`apiVersion: iam.keygate.dev/v1alpha1\nkind: AccessKey\nmetadata: {name: load}\nspec: {user: load}\n`, NS);
    await c.kubectl(["-n", NS, "wait", "--for=jsonpath={.status.state}=Active", "accesskey/load", "--timeout=60s"]);
    const secret = await c.json<{ data: Record<string, string> }>(["-n", NS, "get", "secret", "load-credentials"]);
    const field = (name: string): string => Buffer.from(secret.data[name] ?? "", "base64").toString();
    const aws = { accessKeyId: field("AWS_ACCESS_KEY_ID"), secret: field("AWS_SECRET_ACCESS_KEY"), region: "eu-west-1", service: "execute-api" };
    const service = await c.json<{ spec: { clusterIP: string } }>(["-n", namespace, "get", "service", `${release}-verifier`]);
    const url = new URL(`http://${service.spec.clusterIP}:8080`);

    const newTag = "dev-upgraded";
    const image = info?.dev.images.find((ref) => ref.startsWith("keygate.local/keygate:")) ?? "";
    const upgraded = `${image.split(":")[0] ?? ""}:${newTag}`;
    await run("docker", ["tag", image, upgraded]);
    const archive = `${info?.stateDir ?? ""}/upgraded.tar`;
    await run("docker", ["save", "-o", archive, upgraded], { timeoutMs: 600_000 });
    await importIntoNode([archive]);

    const tally: Tally = { allowed: 0, failed: [], closing: 0 };
    let loading = true;
    const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
    const worker = async (): Promise<void> => {
      while (loading) {
        const signed = signSigV4({ method: "GET", rawPath: "/orders", rawQuery: "", headers: [["Host", "api.example.test"]] }, aws, new Date());
        const answer = await verifyOnce(agent, url, JSON.stringify(verifyBody(signed)));
        if (answer.failure === undefined) tally.allowed++;
        else tally.failed.push(answer.failure);
        if (answer.closing) tally.closing++;
        await sleep(20);
      }
    };
    const workers = Array.from({ length: WORKERS }, () => worker());
    await sleep(3_000);
    await c.upgradeChart([`image.tag=${newTag}`]);
    // helm --wait returns once the new Pods are ready; the old ones may still be draining.
    await untilNoPodTerminates();
    await sleep(3_000);
    loading = false;
    await Promise.all(workers);
    agent.destroy();

    const pods = await c.json<{ items: Array<{ metadata: { labels: Record<string, string>; deletionTimestamp?: string }; spec: { containers: Array<{ image: string }> } }> }>(["-n", namespace, "get", "pods", "-l", "app.kubernetes.io/name=keygate"]);
    const keygatePods = pods.items.filter((pod) => pod.metadata.labels["app.kubernetes.io/component"] !== "replay-store" && !pod.metadata.deletionTimestamp);
    expect(keygatePods.map((pod) => pod.spec.containers[0]?.image)).toEqual(keygatePods.map(() => upgraded));
    process.stderr.write(`[upgrade] ${tally.allowed} verifications allowed during the upgrade, ${tally.failed.length} failed, ${tally.closing} answers from draining replicas\n`);
    expect(tally.failed).toEqual([]);
    // The load reached replicas while they drained: the window this test is about was covered.
    expect(tally.closing).toBeGreaterThan(0);
    expect(tally.allowed).toBeGreaterThan(100);
  });
});
