import { ApiException, type V1Lease } from "@kubernetes/client-node";
import type { LeaseApi } from "../../../src/runtime/leader.js";

interface Named {
  namespace: string;
  name: string;
}

function fail(code: number, message: string): never {
  throw new ApiException(code, message, { message }, {});
}

// Objects cross the "wire" as JSON, as they do with the API server: MicroTimes come back as strings.
function wire(lease: V1Lease): V1Lease {
  return JSON.parse(JSON.stringify(lease)) as V1Lease;
}

/** One Lease in memory with the API server's optimistic concurrency: a stale resourceVersion is a 409. */
export class FakeLeaseApi implements LeaseApi {
  stored: V1Lease | undefined;
  /** While set, every call fails as an unreachable API server would. */
  down = false;
  /** While set, calls never answer, as over a hung connection. */
  hang = false;
  private version = 0;

  readNamespacedLease(_request: Named): Promise<V1Lease> {
    return this.call(() => (this.stored === undefined ? fail(404, "not found") : wire(this.stored)));
  }

  createNamespacedLease(request: { namespace: string; body: V1Lease }): Promise<V1Lease> {
    return this.call(() => (this.stored === undefined ? this.store(request.body) : fail(409, "already exists")));
  }

  replaceNamespacedLease(request: Named & { body: V1Lease }): Promise<V1Lease> {
    return this.call(() => {
      if (request.body.metadata?.resourceVersion !== this.stored?.metadata?.resourceVersion) fail(409, "conflict");
      return this.store(request.body);
    });
  }

  /** Writes the lease as another party would, outside any elector. */
  write(spec: V1Lease["spec"]): void {
    this.store({ metadata: { name: "lease", namespace: "ns" }, ...this.stored, spec });
  }

  holder(): string | undefined {
    return this.stored?.spec?.holderIdentity;
  }

  private store(body: V1Lease): V1Lease {
    this.version += 1;
    this.stored = wire({ ...body, metadata: { ...body.metadata, resourceVersion: String(this.version) } });
    return wire(this.stored);
  }

  private async call<T>(operation: () => T): Promise<T> {
    if (this.hang) await new Promise<never>(() => undefined);
    if (this.down) throw new Error("connect ECONNREFUSED");
    return operation();
  }
}
