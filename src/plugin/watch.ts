import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { PluginError } from "./exit.js";
import type { KeygateObject } from "./resources.js";
import type { Session } from "./session.js";

/** What waiting on an object decided from one version of it: done (with a value), failed, or not yet. */
export type Progress<T> = { done: T } | { failed: string } | undefined;

export interface WaitTarget {
  readonly plural: string;
  readonly name: string;
}

/**
 * Watches one object until `step` decides, or `timeoutMs` passes. A watch without a
 * resourceVersion starts with the object as it is, so a change made before it began is seen too.
 */
export function waitForObject<T>(session: Session, target: WaitTarget, step: (object: KeygateObject) => Progress<T>, timeoutMs: number): Promise<T> {
  const { plural, name } = target;
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${session.namespace}/${plural}`;
  return new Promise<T>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new PluginError(`${name} was not ready within ${timeoutMs / 1000}s; see kubectl describe ${plural} ${name}`))), timeoutMs);
    const onEvent = (phase: string, object: KeygateObject): void => {
      if (phase === "DELETED") return finish(() => reject(new PluginError(`${name} was deleted while waiting for it`)));
      const progress = step(object);
      if (progress && "done" in progress) finish(() => resolve(progress.done));
      else if (progress) finish(() => reject(new PluginError(progress.failed)));
    };
    const onEnd = (error: unknown): void => {
      if (error !== null && error !== undefined) finish(() => reject(error instanceof Error ? error : new PluginError("the watch failed")));
    };
    new k8s.Watch(session.kc).watch(path, { fieldSelector: `metadata.name=${name}` }, onEvent, onEnd).then(
      (started) => {
        controller = started;
        if (settled) started.abort();
      },
      (error: unknown) => finish(() => reject(error instanceof Error ? error : new PluginError("the watch could not start"))),
    );
  });
}
