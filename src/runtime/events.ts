import { type EventsV1Api, type EventsV1Event, type KubernetesObject, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Clock, systemClock } from "./clock.js";
import { apiStatus, errorReason } from "./errors.js";

export const REPORTING_CONTROLLER = "keygate.dev/operator";

// The API server refuses an Event whose note exceeds 1 kB; a long note is cut rather than lost.
const NOTE_MAX_BYTES = 1024;

export type EventType = "Normal" | "Warning";

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export interface EventRecord {
  regarding: InvolvedObject;
  type: EventType;
  /** A CamelCase constant, such as SecretIssued. */
  reason: string;
  /** What happened, for humans. Never a secret. */
  note: string;
  /** What the controller did or failed to do; defaults to the reason. */
  action?: string;
}

export type EventsApi = Pick<EventsV1Api, "createNamespacedEvent">;

export interface EventRecorderOptions {
  api: EventsApi;
  /** The reporting instance, usually the leader-election identity (pod name). */
  identity: string;
  logger: Logger;
  clock?: Clock;
}

function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Writes events.k8s.io/v1 Events, as `kubectl describe` and `kubectl events` show them. */
export class EventRecorder {
  private readonly api: EventsApi;
  private readonly identity: string;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: EventRecorderOptions) {
    this.api = options.api;
    this.identity = options.identity;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Records the event. Events are best-effort by Kubernetes convention: a failed write is logged
   * and dropped, and this never rejects, so a reconcile never fails (or retries) for an Event.
   */
  async record(event: EventRecord): Promise<void> {
    const { kind, name } = event.regarding;
    // Events about cluster-scoped objects live in "default", as client-go's recorder puts them.
    const namespace = event.regarding.namespace || "default";
    try {
      await this.api.createNamespacedEvent({ namespace, body: this.build(event, namespace) });
    } catch (error) {
      this.logger.warn(
        { kind, namespace, name, reason: event.reason, code: apiStatus(error), error: errorReason(error) },
        "event dropped",
      );
    }
  }

  private build(event: EventRecord, namespace: string): EventsV1Event {
    const { regarding } = event;
    return {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      // The API server validates generateName itself as a DNS subdomain, so it cannot end in ".".
      metadata: { generateName: `${regarding.name}-`, namespace },
      eventTime: new V1MicroTime(this.clock.now()),
      type: event.type,
      reason: event.reason,
      action: event.action ?? event.reason,
      note: truncateUtf8(event.note, NOTE_MAX_BYTES),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        namespace: regarding.namespace,
        name: regarding.name,
        uid: regarding.uid,
      },
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.identity,
    };
  }
}

/** How a reconciler reports what happened to one of its objects. */
export interface EventSink {
  emit(object: KubernetesObject, type: EventType, reason: string, message: string): Promise<void>;
}

/** Events about keygate's objects, through the recorder; the object names its own kind. */
export function eventSink(recorder: EventRecorder, apiVersion: string): EventSink {
  return {
    emit: (object, type, reason, message) =>
      recorder.record({
        regarding: {
          apiVersion: object.apiVersion ?? apiVersion,
          kind: object.kind ?? "",
          namespace: object.metadata?.namespace,
          name: object.metadata?.name ?? "",
          uid: object.metadata?.uid,
        },
        type,
        reason,
        note: message,
      }),
  };
}
