import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { AdmissionContext, Admit } from "../runtime/admission.js";
import type { ObjectCache } from "../runtime/informer.js";
import { ensureWebhookCertificate, readMountedCertificate, type ServingIdentity, type WebhookCertificate } from "../webhook/certificate.js";
import {
  type AdmittedResource,
  admissionPath,
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

/** One admitted kind: its rules, and the operator's cache of its objects they read. */
export interface AdmittedKind extends AdmittedResource {
  cache: ObjectCache;
  admit: Admit;
}

function admissionContext(core: k8s.CoreV1Api, cache: ObjectCache): AdmissionContext {
  return {
    objectsIn: (namespace) => cache.list(namespace),
    namespaceTerminating: async (namespace) => {
      const found = await core.readNamespace({ name: namespace });
      return found.metadata?.deletionTimestamp !== undefined || found.status?.phase === "Terminating";
    },
  };
}

/** The admission webhook of one operator replica: served over TLS, registered, kept current. */
export class AdmissionWebhook {
  private server?: WebhookServer;
  private port = 0;
  private renewTimer?: NodeJS.Timeout;
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

  async start(admitted: readonly AdmittedKind[], now: () => Date): Promise<number> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const source = certificateSource(core, this.namespace, this.options);
    const certificate = await source.load(now());
    this.current = certificate;
    this.resources = admitted.map(({ plural, operations }) => ({ plural, operations }));
    const routes = new Map(
      admitted.map((kind) => {
        const context = admissionContext(core, kind.cache);
        return [admissionPath(kind.plural), (request: Parameters<Admit>[0]) => kind.admit(request, context)] as const;
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
    return this.port;
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
    await registerWebhook(api, webhookConfiguration(endpointOf(this.options, this.namespace, this.port), caPem, this.resources));
    this.registeredCa = caPem;
  }

  /** Removes the registration (tests use it to show the controller alone holds the cap). */
  async unregister(): Promise<void> {
    const api = this.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
  }

  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    await this.server?.close();
  }
}
