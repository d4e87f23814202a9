import { type Networks, parseNetworks } from "../../../src/verifier/ip.js";
import type { IndexedKey, KeyOwner } from "../../../src/verifier/key-table.js";
import type { KeyLookup } from "../../../src/verifier/verification.js";

export const KEY_ID = "KGAKTESTTESTTESTTEST";
export const SECRET = "test-secret-0123456789-abcdefghijklmnopq";

export interface KeyShape {
  active?: boolean;
  cidrs?: string[];
}

function networks(cidrs: readonly string[] | undefined): Networks | undefined {
  const parsed = cidrs === undefined ? undefined : parseNetworks(cidrs);
  if (parsed && !parsed.ok) throw new Error(`bad test CIDR ${parsed.entry}`);
  return parsed?.networks;
}

/** A fixed key table standing in for the watched index. */
export class FakeKeys implements KeyLookup {
  isReady = true;
  private readonly keys = new Map<string, IndexedKey>();
  private readonly accounts = new Map<string, Networks>();

  constructor(shape: KeyShape = {}) {
    this.set(KEY_ID, shape);
  }

  set(accessKeyId: string, shape: KeyShape): void {
    this.keys.set(accessKeyId, {
      secret: SECRET,
      accessKeyId,
      namespace: "team",
      user: "alice",
      active: shape.active ?? true,
      allowedSourceCIDRs: networks(shape.cidrs),
      accessKey: { namespace: "team", name: "alpha", uid: "uid-alpha" },
    });
  }

  /** The AccountPolicy's allowedSourceCIDRs of a namespace; undefined removes it. */
  setAccount(namespace: string, cidrs: readonly string[] | undefined): void {
    const parsed = networks(cidrs);
    if (parsed === undefined) this.accounts.delete(namespace);
    else this.accounts.set(namespace, parsed);
  }

  accountNetworks(namespace: string): Networks | undefined {
    return this.accounts.get(namespace);
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
