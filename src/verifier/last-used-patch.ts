import type * as k8s from "@kubernetes/client-node";
import { ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { patchStatusField, uidGuardedStatusPatch } from "../runtime/status-patch.js";
import type { AccessKeyRef } from "./key-table.js";
import type { Flush, FlushResult, LastUsed } from "./last-used.js";

/** Shown last uses, read from the AccessKey cache. */
export interface ShownLastUse {
  lastUsedMs(uid: string): number | undefined;
}

// The value replaces the whole of lastUsed, so a scheme without a credential scope leaves no
// stale service or region.
function lastUsedValue(usage: LastUsed): Record<string, string> {
  const value: Record<string, string> = { time: usage.time };
  if (usage.service !== undefined) value.service = usage.service;
  if (usage.region !== undefined) value.region = usage.region;
  if (usage.sourceIP !== undefined) value.sourceIP = usage.sourceIP;
  return value;
}

/** The patch of status.lastUsed, guarded by the AccessKey's uid. */
export function lastUsedPatch(target: AccessKeyRef, usage: LastUsed): object[] {
  return uidGuardedStatusPatch(target.uid, "lastUsed", lastUsedValue(usage));
}

/** Writes a last use to the AccessKey's status, unless the status already shows a later one (another replica's). */
export function statusFlush(custom: k8s.CustomObjectsApi, shown: ShownLastUse): Flush {
  return async (target: AccessKeyRef, usage: LastUsed): Promise<FlushResult> => {
    const already = shown.lastUsedMs(target.uid);
    if (already !== undefined && already >= Date.parse(usage.time)) return "written";
    return patchStatusField(custom, { plural: ACCESS_KEY_PLURAL, namespace: target.namespace, name: target.name, uid: target.uid }, "lastUsed", lastUsedValue(usage));
  };
}
