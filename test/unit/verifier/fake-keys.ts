import { parseNetworks } from "../../../src/verifier/ip.js";
import type { IndexedKey, KeyOwner } from "../../../src/verifier/key-table.js";
import type { KeyLookup } from "../../../src/verifier/verification.js";

export const KEY_ID = "KGAKTESTTESTTESTTEST";
export const SECRET = "test-secret-0123456789-abcdefghijklmnopq";

export interface KeyShape {
  active?: boolean;
  cidrs?: string[];
}

/** A fixed key table standing in for the watched index. */
export class FakeKeys implements KeyLookup {
  isReady = true;
  private readonly keys = new Map<string, IndexedKey>();

  constructor(shape: KeyShape = {}) {
    this.set(KEY_ID, shape);
  }

  set(accessKeyId: string, shape: KeyShape): void {
    const parsed = shape.cidrs === undefined ? undefined : parseNetworks(shape.cidrs);
    if (parsed && !parsed.ok) throw new Error(`bad test CIDR ${parsed.entry}`);
    this.keys.set(accessKeyId, {
      secret: SECRET,
      accessKeyId,
      namespace: "team",
      user: "alice",
      active: shape.active ?? true,
      allowedSourceCIDRs: parsed?.networks,
      accessKey: { namespace: "team", name: "alpha", uid: "uid-alpha" },
    });
  }

  lookup(accessKeyId: string): IndexedKey | undefined {
    return this.keys.get(accessKeyId);
  }

  kekSet(): undefined {
    return undefined;
  }

  owner(accessKeyId: string): KeyOwner | undefined {
    const key = this.keys.get(accessKeyId);
    return key && { accessKeyId, namespace: key.namespace, user: key.user };
  }
}
