import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { NodeCluster, nodeOrSkip } from "./cluster.js";

// The leader operator Pod deleted while 100 AccessKeys are being created: the other replica takes
// the Lease within its duration, and every key is issued exactly once (one Secret, one Issued
// Event, the Secret's key id the one in status).

const info = nodeOrSkip("leader.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;
const NS = "e2e-leader";
const KEYS = 100;

interface Lease {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string };
}

interface AccessKey {
  metadata: { name: string };
  status?: { state?: string; accessKeyId?: string };
}

interface EventList {
  items: Array<{ involvedObject: { name: string }; reason: string; count?: number; series?: { count: number } }>;
}

function keysManifest(): string {
  return Array.from({ length: KEYS }, (_, i) => `apiVersion: iam.keygate.dev/v1alpha1\nkind: AccessKey\nmetadata: {name: key-${i}}\nspec: {user: user-${Math.floor(i / 2)}}\n`).join("---\n");
}

describe.skipIf(!cluster)("the leader operator Pod deleted during a burst of creations", () => {
  const c = cluster as NodeCluster;
  const namespace = info?.namespace ?? "";

  async function lease(): Promise<Lease> {
    return c.json<Lease>(["-n", namespace, "get", "lease", "keygate-operator"]);
  }

  async function allActive(): Promise<AccessKey[]> {
    const deadline = Date.now() + 240_000;
    let keys: AccessKey[] = [];
    while (Date.now() < deadline) {
      keys = (await c.json<{ items: AccessKey[] }>(["-n", NS, "get", "accesskeys"])).items;
      if (keys.length === KEYS && keys.every((key) => key.status?.state === "Active")) return keys;
      await sleep(1_000);
    }
    throw new Error(`${keys.filter((key) => key.status?.state === "Active").length} of ${KEYS} keys Active after 4 min`);
  }

  /** The next holder of the Lease after `leader`, and how long after `since` it acquired it. */
  async function nextLeader(leader: string, since: number): Promise<{ holder: string; afterMs: number }> {
    let current = await lease();
    while (current.spec.holderIdentity === leader || !current.spec.holderIdentity) {
      if (Date.now() - since > 120_000) throw new Error(`no new leader 2 min after ${leader} was deleted`);
      await sleep(200);
      current = await lease();
    }
    return { holder: current.spec.holderIdentity, afterMs: Date.parse(current.spec.acquireTime ?? "") - since };
  }

  /** Issued Events per key, repeats (count, series) included. */
  async function issuedEvents(): Promise<Map<string, number>> {
    const events = await c.json<EventList>(["-n", NS, "get", "events", "--field-selector", "reason=Issued"]);
    const issued = new Map<string, number>();
    for (const event of events.items) issued.set(event.involvedObject.name, (issued.get(event.involvedObject.name) ?? 0) + (event.series?.count ?? event.count ?? 1));
    return issued;
  }

  it("hands the Lease to the other replica within its duration and issues every key once", async () => {
    await c.kubectl(["create", "namespace", NS]);
    const before = await lease();
    const leader = before.spec.holderIdentity ?? "";
    expect(leader).toMatch(/^keygate-operator-/);
    const creating = c.apply(keysManifest(), NS);
    await sleep(1_000);
    const deletedAt = Date.now();
    await c.kubectl(["-n", namespace, "delete", "pod", leader, "--wait=false"]);
    await creating;

    const next = await nextLeader(leader, deletedAt);
    process.stderr.write(`[leader] ${next.holder} acquired the Lease ${next.afterMs} ms after ${leader} was deleted\n`);
    expect(next.holder).toMatch(/^keygate-operator-/);
    expect(next.afterMs).toBeLessThanOrEqual((before.spec.leaseDurationSeconds ?? 15) * 1000);

    const keys = await allActive();
    const issued = await issuedEvents();
    for (const key of keys) {
      expect(issued.get(key.metadata.name), key.metadata.name).toBe(1);
      const secret = await c.json<{ data: Record<string, string> }>(["-n", NS, "get", "secret", `${key.metadata.name}-credentials`]);
      expect(Buffer.from(secret.data.AWS_ACCESS_KEY_ID ?? "", "base64").toString(), key.metadata.name).toBe(key.status?.accessKeyId);
    }
  });
});
