import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { apiStatus } from "../runtime/errors.js";
import type { AccessKeyRef } from "./key-table.js";
import type { Flush, FlushResult, LastUsed } from "./last-used.js";

const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);
// Not found, or the test on the uid failed (another AccessKey now has the name), or no status yet.
const GONE = new Set([404, 409, 422]);

/** Shown last uses, read from the AccessKey cache. */
export interface ShownLastUse {
  lastUsedMs(uid: string): number | undefined;
}

/**
 * A JSON patch of status.lastUsed, guarded by the AccessKey's uid so that a key deleted and
 * recreated under the same name never shows its predecessor's use. (A merge patch cannot carry
 * that guard: the status subresource silently ignores a uid in the body.) The value replaces the
 * whole of lastUsed, so a scheme without a credential scope leaves no stale service or region.
 */
export function lastUsedPatch(target: AccessKeyRef, usage: LastUsed): object[] {
  const value: Record<string, string> = { time: usage.time };
  if (usage.service !== undefined) value.service = usage.service;
  if (usage.region !== undefined) value.region = usage.region;
  if (usage.sourceIP !== undefined) value.sourceIP = usage.sourceIP;
  return [
    { op: "test", path: "/metadata/uid", value: target.uid },
    { op: "add", path: "/status/lastUsed", value },
  ];
}

/** Writes a last use to the AccessKey's status, unless the status already shows a later one (another replica's). */
export function statusFlush(custom: k8s.CustomObjectsApi, shown: ShownLastUse): Flush {
  return async (target: AccessKeyRef, usage: LastUsed): Promise<FlushResult> => {
    const already = shown.lastUsedMs(target.uid);
    if (already !== undefined && already >= Date.parse(usage.time)) return "written";
    try {
      await custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: ACCESS_KEY_PLURAL, namespace: target.namespace, name: target.name, body: lastUsedPatch(target, usage) },
        JSON_PATCH,
      );
      return "written";
    } catch (error) {
      if (GONE.has(apiStatus(error) ?? 0)) return "gone";
      throw error;
    }
  };
}
