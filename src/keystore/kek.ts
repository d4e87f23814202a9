import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { isApiStatus } from "../runtime/errors.js";
import type { Kek, KekRing } from "./seal.js";

export const KEK_SECRET_NAME = "keygate-kek";

export interface KekSet {
  current: Kek;
  ring: KekRing;
}

// data: one entry per version, `v<N>` → 32 random bytes; the highest version seals new records.
function parseKekSecret(secret: k8s.V1Secret): KekSet {
  const ring = new Map<number, Buffer>();
  for (const [name, value] of Object.entries(secret.data ?? {})) {
    const match = /^v([1-9][0-9]*)$/.exec(name);
    if (match?.[1]) ring.set(Number(match[1]), Buffer.from(value, "base64"));
  }
  const version = Math.max(0, ...ring.keys());
  const key = ring.get(version);
  if (!key || key.length !== 32) {
    throw new Error(`Secret ${KEK_SECRET_NAME} holds no usable key-encryption key (expected data v<N> of 32 bytes)`);
  }
  return { current: { version, key }, ring };
}

/**
 * Loads the key-encryption key from the operator namespace, creating it on first start. Two
 * replicas starting at once both try to create; the loser reads the winner's key.
 */
export async function loadOrCreateKek(core: k8s.CoreV1Api, namespace: string): Promise<KekSet> {
  try {
    return parseKekSecret(await core.readNamespacedSecret({ namespace, name: KEK_SECRET_NAME }));
  } catch (error) {
    if (!isApiStatus(error, 404)) throw error;
  }
  const body: k8s.V1Secret = {
    metadata: { name: KEK_SECRET_NAME, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    type: "Opaque",
    data: { v1: randomBytes(32).toString("base64") },
  };
  try {
    return parseKekSecret(await core.createNamespacedSecret({ namespace, body }));
  } catch (error) {
    if (!isApiStatus(error, 409)) throw error;
    return parseKekSecret(await core.readNamespacedSecret({ namespace, name: KEK_SECRET_NAME }));
  }
}
