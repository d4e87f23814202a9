import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { NodeCluster, nodeOrSkip } from "./cluster.js";
import { callsOf, firstCall, WORKLOAD_NAMESPACE } from "./workload-calls.js";

// The TemporaryCredential that workload.test.ts issued (900 s, the shortest a session can be) and
// whose Pod has called through the gateway ever since: refused from the moment it expires, and
// its Secret gone. Runs after the upgrade, so the verifiers that refuse it are new ones.

const info = nodeOrSkip("expiry.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;

describe.skipIf(!cluster)("a temporary credential in use when it expires", () => {
  const c = cluster as NodeCluster;

  it("is refused from its expiration on, and its Secret deleted", async () => {
    const session = await c.json<{ status: { expiration: string } }>(["-n", WORKLOAD_NAMESPACE, "get", "temporarycredential", "deploy"]);
    const expiresAt = Date.parse(session.status.expiration);
    const wait = expiresAt - Date.now();
    process.stderr.write(`[expiry] waiting ${Math.round(wait / 1000)} s for the session to expire\n`);
    if (wait > 0) await sleep(wait);
    const denied = await firstCall(c, "session", expiresAt, (call) => call.status === 403);
    process.stderr.write(`[expiry] first call refused ${denied.at - expiresAt} ms after the expiration\n`);
    expect(denied.at - expiresAt).toBeLessThan(5_000);
    const calls = await callsOf(c, "session");
    expect(calls.filter((call) => call.at < expiresAt - 1_000).at(-1)?.status).toBe(200);
    await firstCall(c, "session", denied.at + 2_000, () => true);
    const after = (await callsOf(c, "session")).filter((call) => call.at > denied.at).slice(0, 5);
    expect(after.map((call) => call.status)).toEqual([403, 403, 403, 403, 403]);
    await c.kubectl(["-n", WORKLOAD_NAMESPACE, "wait", "--for=delete", "secret/deploy-credentials", "--timeout=120s"]);
  }, 1_200_000);
});
