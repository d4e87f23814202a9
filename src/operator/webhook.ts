import { connect } from "node:net";
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { errorReason, isApiStatus } from "../runtime/errors.js";
import type { Admit, FailOpen } from "../runtime/admission.js";
import type { UserMapping } from "../runtime/user-mapping.js";
import type { KekSet } from "../keystore/kek.js";
import { admissionContext } from "./admission-context.js";
import type { ObjectCache } from "../runtime/informer.js";
import type { KindCaches } from "../kinds/kind.js";
import { ensureWebhookCertificate, readMountedCertificate, type ServingIdentity, type WebhookCertificate } from "../webhook/certificate.js";
import {
  type AdmittedResource,
  admissionPath,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  mutatingWebhookConfiguration,
  mutationPath,
  registerWebhook,
  WEBHOOK_CONFIGURATION_NAME,
  type WebhookEndpoint,
  webhookConfiguration,
} from "../webhook/registration.js";
import { WebhookServer } from "../webhook/server.js";

export interface WebhookOptions {
  host: string;
  port: number;
  /** Address the API server dials for a URL endpoint (local runs); unused with `service`. */
  publicHost?: string;
  /** The in-cluster Service in front of the operator. */
  service?: { name: string; port: number };
  /**
   * A directory holding tls.crt, tls.key and ca.crt that someone else keeps current (a
   * cert-manager Certificate's Secret, mounted). Unset: the operator issues its own certificate.
   */
  certDir?: string;
}

const RENEW_CHECK_MS = 12 * 60 * 60 * 1000;
// How often a local replica checks that the registered URL still answers; the API server refuses
// every admitted request while it does not, so this bounds that outage.
const ENDPOINT_CHECK_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
// cert-manager renews the mounted Secret in place; the kubelet refreshes the volume within a minute or so.
const MOUNTED_CHECK_MS = 60 * 1000;

/** Where the serving certificate comes from, and how often to look again. */
interface CertificateSource {
  load(now: Date): Promise<WebhookCertificate>;
  checkEveryMs: number;
}

function certificateSource(core: k8s.CoreV1Api, namespace: string, options: WebhookOptions): CertificateSource {
  const dir = options.certDir;
  if (dir !== undefined) return { load: () => readMountedCertificate(dir), checkEveryMs: MOUNTED_CHECK_MS };
  const identity = servingIdentity(options, namespace);
  return { load: (now) => ensureWebhookCertificate(core, namespace, identity, now), checkEveryMs: RENEW_CHECK_MS };
}

function servingIdentity(options: WebhookOptions, namespace: string): ServingIdentity {
  if (options.service) {
    const base = `${options.service.name}.${namespace}.svc`;
    return { dnsNames: [base, `${base}.cluster.local`], ipAddresses: [] };
  }
  const host = options.publicHost ?? "127.0.0.1";
  const isIp = /^[0-9.]+$|:/.test(host);
  return { dnsNames: isIp ? [] : [host], ipAddresses: isIp ? [host] : [] };
}

function endpointOf(options: WebhookOptions, namespace: string, port: number): WebhookEndpoint {
  if (options.service) return { service: { namespace, name: options.service.name, port: options.service.port } };
  const host = options.publicHost ?? "127.0.0.1";
  return { url: `https://${host.includes(":") ? `[${host}]` : host}:${port}` };
}

function urlEndpoint(url: string): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 443) };
  } catch {
    return undefined;
  }
}

/** Whether something accepts TCP connections at the URL's host and port. */
function answers(url: string): Promise<boolean> {
  const endpoint = urlEndpoint(url);
  if (!endpoint) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(endpoint.port, endpoint.host);
    const done = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Who the API server takes the operator to be, so that admission always lets its own writes through. */
async function ownUsername(kc: k8s.KubeConfig): Promise<string> {
  const review = await kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  const username = review.status?.userInfo?.username;
  if (!username) throw new Error("the API server did not say who the operator is (SelfSubjectReview has no username)");
  return username;
}

/** One admitted kind: its rules, and the operator's cache of its objects they read. */
export interface AdmittedKind extends Omit<AdmittedResource, "mutating"> {
  cache: ObjectCache;
  admit: Admit;
  mutate?: Admit;
  failOpen?: FailOpen;
}

/** What the rules of every kind read besides their own cache. */
export interface AdmissionSettings {
  caches: KindCaches;
  userMapping: UserMapping;
  keks: KekSet;
}

/** The admission webhook of one operator replica: served over TLS, registered, kept current. */
export class AdmissionWebhook {
  private server?: WebhookServer;
  private port = 0;
  private renewTimer?: NodeJS.Timeout;
  private endpointTimer?: NodeJS.Timeout;
  /** The registered URL the last check found not answering. */
  private missedEndpoint?: string;
  private current?: WebhookCertificate;
  /** The caBundle last registered successfully: a failed registration is retried at the next check. */
  private registeredCa?: string;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly options: WebhookOptions,
    private readonly log: Logger,
  ) {}

  private resources: readonly AdmittedResource[] = [];

  async start(admitted: readonly AdmittedKind[], settings: AdmissionSettings, now: () => Date): Promise<number> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const operatorUsername = await ownUsername(this.kc);
    this.log.info({ operatorUsername }, "admission lets the operator's own writes through");
    const source = certificateSource(core, this.namespace, this.options);
    const certificate = await source.load(now());
    this.current = certificate;
    this.resources = admitted.map(({ plural, operations, mutate, failOpen }) => ({ plural, operations, mutating: mutate !== undefined, failOpen }));
    const deps = { kc: this.kc, operatorNamespace: this.namespace, operatorUsername, now, log: this.log, ...settings };
    const routes = new Map(
      admitted.flatMap((kind) => {
        const context = admissionContext(deps, kind.cache);
        const { mutate } = kind;
        const validate = [admissionPath(kind.plural), (request: Parameters<Admit>[0]) => kind.admit(request, context)] as const;
        if (!mutate) return [validate];
        return [validate, [mutationPath(kind.plural), (request: Parameters<Admit>[0]) => mutate(request, context)] as const];
      }),
    );
    this.server = new WebhookServer(certificate, routes, this.log);
    this.port = await this.server.listen(this.options.port, this.options.host);
    await this.register();
    this.renewTimer = setInterval(() => {
      this.renew(source, now()).catch((error: unknown) =>
        this.log.warn({ err: String(error) }, "webhook certificate renewal failed; will retry"),
      );
    }, source.checkEveryMs);
    this.renewTimer.unref();
    if (!this.options.service) this.watchRegisteredEndpoint();
    return this.port;
  }

  /**
   * Local replicas (no Service) each register their own URL, so the configuration names the last
   * one started. Every replica checks that the registered URL still answers and registers itself
   * when it does not, so losing that one replica does not refuse every create for good. A missing
   * configuration is left alone: someone removed it on purpose.
   */
  private watchRegisteredEndpoint(): void {
    const api = this.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const own = endpointOf(this.options, this.namespace, this.port);
    let checking = false;
    this.endpointTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.takeOverDeadEndpoint(api, "url" in own ? own.url : "")
        .catch((error: unknown) => this.log.warn({ reason: errorReason(error) }, "could not check the webhook registration; will retry"))
        .finally(() => (checking = false));
    }, ENDPOINT_CHECK_MS);
    this.endpointTimer.unref();
  }

  private async takeOverDeadEndpoint(api: k8s.AdmissionregistrationV1Api, ownUrl: string): Promise<void> {
    let current: k8s.V1ValidatingWebhookConfiguration;
    try {
      current = await api.readValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
    } catch (error) {
      if (isApiStatus(error, 404)) return;
      throw error;
    }
    const urls = (current.webhooks ?? []).flatMap((webhook) => (webhook.clientConfig.url ? [webhook.clientConfig.url] : []));
    const registered = urls[0];
    const alive = registered === undefined || registered.startsWith(`${ownUrl}/`) || (await answers(registered));
    // Two checks in a row, so one stalled connect does not make replicas take it from each other.
    const missed = alive ? undefined : registered;
    const confirmed = missed !== undefined && missed === this.missedEndpoint;
    this.missedEndpoint = missed;
    if (!confirmed || registered === undefined) return;
    this.log.warn({ registered: new URL(registered).host, own: new URL(ownUrl).host }, "the registered webhook endpoint does not answer; registering this replica");
    await this.register();
  }

  private async renew(source: CertificateSource, now: Date): Promise<void> {
    const certificate = await source.load(now);
    const previous = this.current;
    this.current = certificate;
    if (certificate.certPem !== previous?.certPem || certificate.keyPem !== previous.keyPem) this.server?.rotate(certificate);
    if (certificate.caPem !== this.registeredCa) await this.register();
  }

  async register(): Promise<void> {
    const api = this.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const caPem = this.current?.caPem ?? "";
    const endpoint = endpointOf(this.options, this.namespace, this.port);
    await registerWebhook(api, webhookConfiguration(endpoint, caPem, this.resources), mutatingWebhookConfiguration(endpoint, caPem, this.resources));
    this.registeredCa = caPem;
  }

  /** Removes the registration (tests use it to show the controller alone holds the cap). */
  async unregister(): Promise<void> {
    const api = this.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    // Each on its own: a mutating configuration left behind would refuse every write.
    const gone = (error: unknown): void => {
      if (!isApiStatus(error, 404)) throw error;
    };
    await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(gone);
    await api.deleteMutatingWebhookConfiguration({ name: MUTATING_WEBHOOK_CONFIGURATION_NAME }).catch(gone);
  }

  /** The replica is going away: answers end their connections so the API server moves on. */
  drain(): void {
    this.server?.drain();
  }

  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    clearInterval(this.endpointTimer);
    await this.server?.close();
  }
}
