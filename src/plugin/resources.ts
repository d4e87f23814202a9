import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { isApiStatus } from "../runtime/errors.js";
import type { DryRunMode } from "./command.js";
import type { Session } from "./session.js";
import { warningsOf } from "./warnings.js";

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/** A keygate object as the API server answers it; each command reads the fields it shows. */
export type KeygateObject = k8s.KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** What a write answered: the object, and the admission webhook's `Warning:` lines, verbatim. */
export interface Written {
  readonly object: KeygateObject;
  readonly warnings: readonly string[];
}

// The API server's dryRun parameter; `client` sends nothing, so it never reaches here.
function dryRunParameter(dryRun: DryRunMode | undefined): "All" | undefined {
  return dryRun === "server" ? "All" : undefined;
}

/** Reads and writes one keygate kind in the session's namespace. */
export class Kind {
  constructor(
    private readonly session: Session,
    readonly plural: string,
  ) {}

  private where(namespace = this.session.namespace) {
    return { group: GROUP, version: VERSION, plural: this.plural, namespace };
  }

  async get(name: string): Promise<KeygateObject | undefined> {
    try {
      return (await this.session.custom.getNamespacedCustomObject({ ...this.where(), name })) as KeygateObject;
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list(fieldSelector?: string): Promise<KeygateObject[]> {
    const list = (await this.session.custom.listNamespacedCustomObject({ ...this.where(), fieldSelector })) as { items: KeygateObject[] };
    return list.items;
  }

  /** Every namespace's objects the caller may list cluster-wide. */
  async listAllNamespaces(fieldSelector?: string): Promise<KeygateObject[]> {
    const list = (await this.session.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural, fieldSelector })) as {
      items: KeygateObject[];
    };
    return list.items;
  }

  async create(body: KeygateObject, dryRun?: DryRunMode): Promise<Written> {
    const info = await this.session.custom.createNamespacedCustomObjectWithHttpInfo({ ...this.where(), body, dryRun: dryRunParameter(dryRun) });
    return { object: info.data as KeygateObject, warnings: warningsOf(info.headers) };
  }

  async mergePatch(name: string, body: object, dryRun?: DryRunMode): Promise<Written> {
    const info = await this.session.custom.patchNamespacedCustomObjectWithHttpInfo(
      { ...this.where(), name, body, dryRun: dryRunParameter(dryRun) },
      MERGE_PATCH,
    );
    return { object: info.data as KeygateObject, warnings: warningsOf(info.headers) };
  }

  async delete(name: string, dryRun?: DryRunMode): Promise<readonly string[]> {
    const info = await this.session.custom.deleteNamespacedCustomObjectWithHttpInfo({ ...this.where(), name, dryRun: dryRunParameter(dryRun) });
    return warningsOf(info.headers);
  }
}
