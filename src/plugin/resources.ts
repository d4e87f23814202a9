import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { isApiStatus } from "../runtime/errors.js";
import type { DryRunMode } from "./command.js";
import type { Session } from "./session.js";
import { warningsOf } from "./warnings.js";

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/**
 * A keygate object as the API server answers it, JSON as sent (timestamps are strings); each
 * command reads the fields it shows.
 */
export interface KeygateObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; generateName?: string; namespace?: string; uid?: string; generation?: number; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

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

  /**
   * Deletes the object only if it is still the one of `uid`, when given: the one the person
   * confirmed, not another made since under the same name. (Not its resourceVersion: the
   * operator's status writes change that all the time.) Dry run and precondition both go in the
   * body: the API server ignores a DELETE's query parameters when it has one.
   */
  async delete(name: string, options: { dryRun?: DryRunMode; uid?: string } = {}): Promise<readonly string[]> {
    const dryRun = dryRunParameter(options.dryRun);
    const body = { ...(dryRun === undefined ? {} : { dryRun: [dryRun] }), ...(options.uid === undefined ? {} : { preconditions: { uid: options.uid } }) };
    const info = await this.session.custom.deleteNamespacedCustomObjectWithHttpInfo({ ...this.where(), name, body });
    return warningsOf(info.headers);
  }
}
