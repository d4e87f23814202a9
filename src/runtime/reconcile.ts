import { isDeepStrictEqual } from "node:util";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Condition } from "../api/condition.js";
import type { ParseResult } from "../api/parse.js";
import { findCondition, setCondition } from "./conditions.js";
import { apiStatus, errorReason } from "./errors.js";
import type { EventSink, EventType } from "./events.js";
import type { KindClient } from "./kube.js";
import type { ReconcileResult } from "./queue.js";

export const READY = "Ready";
/** The Ready reason of a reconcile that failed; the message says which step and why. */
export const RECONCILE_FAILED = "ReconcileFailed";

/** Where an object stands when nothing is left to do: it becomes the Ready condition. */
export interface Outcome {
  ready: boolean;
  reason: string;
  message: string;
  /** When to look again (epoch ms), e.g. at an expiry; not by polling. */
  requeueAt?: number;
}

/** The decision that nothing is left to do. */
export interface Settled<O extends Outcome> {
  kind: "none";
  outcome: O;
}

export interface TransitionEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** The fields of every keygate object that the skeleton reads. */
export interface ReconciledObject {
  metadata: { generation?: number; deletionTimestamp?: string };
  status?: { conditions?: Condition[] } & Record<string, unknown>;
}

/**
 * What one kind contributes to the shared reconcile skeleton: how to read its object, gather the
 * world, decide the next step (pure), act on it, and what status and Events a settled outcome
 * means. Everything else (the loop, the single status write, failures) is the skeleton's.
 */
export interface KindLogic<T extends ReconciledObject, Observation, Step extends { kind: string }, O extends Outcome> {
  readonly kind: string;
  parse(raw: unknown): ParseResult<T>;
  gather(object: T): Promise<Observation>;
  decide(observation: Observation): Step | Settled<O>;
  /**
   * Applies the step. It may answer the object as it stands afterwards (the API server's answer to
   * a patch of it, or the object as it was when the step changed something else), sparing a read:
   * a change someone makes meanwhile is not lost, its watch event runs the key again. Nothing:
   * the object is read again.
   */
  act(object: T, raw: KubernetesObject, step: Step): Promise<KubernetesObject | void>;
  desiredStatus(observation: Observation, outcome: O): Record<string, unknown>;
  transitionEvents(previous: T["status"], next: Record<string, unknown>, outcome: O): TransitionEvent[];
  /** Status fields another component writes (the verifier's last use): never overwritten here. */
  readonly othersOwn?: readonly string[];
}

export interface SkeletonDeps {
  client: KindClient;
  events: EventSink;
  log: Logger;
  now: () => Date;
}

// Each step changes one thing; a reconcile applies steps until nothing is left or this bound is
// hit (then it asks to be queued again at once: not every step is an event that would wake it).
const MAX_STEPS = 8;
// A condition message is for humans; the API server's reasons are short, hostile input is not.
const MAX_MESSAGE_LENGTH = 1024;

type Attempt = { raw?: KubernetesObject; step: string };

/**
 * A failure inside an action that does several steps in one go, naming the step that failed, so
 * the condition and Event read the same as when that step fails on its own (one Warning per
 * distinct failure, whichever action ran into it).
 */
export class StepFailure extends Error {
  readonly statusCode: number | undefined;

  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(errorReason(cause), { cause });
    this.name = "StepFailure";
    this.statusCode = apiStatus(cause);
  }
}

function isSettled<O extends Outcome>(step: { kind: string }): step is Settled<O> {
  return step.kind === "none";
}

/**
 * The reconcile of every kind: read the live object, gather, decide, act on one step, and again,
 * until the decision is "nothing to do"; then one status write. A failure sets Ready=False with
 * the failed step and the API server's reason, one Warning Event per distinct failure (not per
 * retry), and is rethrown so that the queue retries it with backoff and counts it.
 */
export class ReconcileSkeleton<T extends ReconciledObject, Observation, Step extends { kind: string }, O extends Outcome> {
  constructor(
    private readonly logic: KindLogic<T, Observation, Step, O>,
    private readonly deps: SkeletonDeps,
  ) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult | void> {
    const attempt: Attempt = { step: "read" };
    try {
      return await this.run(namespace, name, attempt);
    } catch (error) {
      await this.reportFailure(attempt, error);
      throw error;
    }
  }

  private async run(namespace: string, name: string, attempt: Attempt): Promise<ReconcileResult | void> {
    const { logic, deps } = this;
    let known: KubernetesObject | undefined;
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      attempt.step = "read";
      const raw = known ?? (await deps.client.read(namespace, name));
      attempt.raw = raw;
      if (!raw) return;
      const parsed = logic.parse(raw);
      if (!parsed.ok) {
        deps.log.warn({ kind: logic.kind, namespace, name, issues: parsed.error.issues }, `invalid ${logic.kind} ignored`);
        return;
      }
      attempt.step = "gather";
      const observation = await logic.gather(parsed.value);
      const step = logic.decide(observation);
      attempt.step = step.kind;
      deps.log.debug({ kind: logic.kind, namespace, name, step: step.kind }, "reconcile step");
      if (isSettled<O>(step)) return this.settle(raw, parsed.value, observation, step.outcome);
      known = (await logic.act(parsed.value, raw, step)) ?? undefined;
    }
    return { requeueAfterMs: 0 };
  }

  /** The one status write, only when the status changed, and the Events of what changed. */
  private async settle(raw: KubernetesObject, object: T, observation: Observation, outcome: O): Promise<ReconcileResult> {
    const result = this.requeue(outcome);
    if (object.metadata.deletionTimestamp) return result;
    const status = this.logic.desiredStatus(observation, outcome);
    const previous = object.status;
    // Written only when it changed, so resyncs and re-applies cost no write and no event.
    if (isDeepStrictEqual(previous ?? {}, status)) return result;
    await this.deps.client.writeStatus(raw, previous, status, this.logic.othersOwn);
    for (const event of this.logic.transitionEvents(previous, status, outcome)) {
      await this.deps.events.emit(raw, event.type, event.reason, event.message);
    }
    return result;
  }

  private requeue(outcome: O): ReconcileResult {
    if (outcome.requeueAt === undefined) return {};
    return { requeueAfterMs: Math.max(0, outcome.requeueAt - this.deps.now().getTime()) };
  }

  private async reportFailure(attempt: Attempt, error: unknown): Promise<void> {
    const raw = attempt.raw as (KubernetesObject & ReconciledObject) | undefined;
    // A conflict only means someone wrote first: the retry decides again, nothing failed.
    if (!raw || apiStatus(error) === 409 || raw.metadata.deletionTimestamp) return;
    const step = error instanceof StepFailure ? error.step : attempt.step;
    const message = `${step} failed: ${errorReason(error)}`.slice(0, MAX_MESSAGE_LENGTH);
    const conditions = failedConditions(raw, message, this.deps.now());
    if (!conditions) return;
    try {
      await this.deps.client.patchStatus(raw, { conditions });
      await this.deps.events.emit(raw, "Warning", RECONCILE_FAILED, message);
    } catch (reportError) {
      const { namespace, name } = raw.metadata as { namespace?: string; name?: string };
      this.deps.log.warn({ kind: this.logic.kind, namespace, name, reason: errorReason(reportError) }, "could not report a failed reconcile");
    }
  }
}

/** The conditions with Ready=False for this failure; undefined when they already say so (a retry). */
function failedConditions(raw: ReconciledObject, message: string, now: Date): Condition[] | undefined {
  const conditions = raw.status?.conditions ?? [];
  const previous = findCondition(conditions, READY);
  if (previous?.status === "False" && previous.reason === RECONCILE_FAILED && previous.message === message) return undefined;
  const ready = { type: READY, status: "False", reason: RECONCILE_FAILED, message, observedGeneration: raw.metadata.generation ?? 0 } as const;
  return setCondition(conditions, ready, now);
}
