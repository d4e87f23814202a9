import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type AccessKey, parseAccessKey } from "../api/accesskey.js";
import { type MfaDevice, parseMfaDevice } from "../api/mfadevice.js";
import type { Informer } from "../runtime/informer.js";
import { type AdmissionContext, admitAccessKey, admitMfaDevice } from "../runtime/admission.js";
import { ensureWebhookCertificate, readMountedCertificate, type ServingIdentity, type WebhookCertificate } from "../webhook/certificate.js";
import { registerWebhook, WEBHOOK_CONFIGURATION_NAME, type WebhookEndpoint, webhookConfiguration } from "../webhook/registration.js";
import { ACCESS_KEY_WEBHOOK_PATH, MFA_DEVICE_WEBHOOK_PATH, WebhookServer } from "../webhook/server.js";

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

/** The operator's caches the admission rules read: no API call but the namespace lookup. */
export interface AdmissionCaches {
  keys: Informer<k8s.KubernetesObject>;
  devices: Informer<k8s.KubernetesObject>;
}

function admissionContext(core: k8s.CoreV1Api, caches: AdmissionCaches): AdmissionContext {
  return {
    keysOf: (namespace, user) =>
      caches.keys
        .list(namespace)
        .map((object) => parseAccessKey(object))
        .flatMap((result): AccessKey[] => (result.ok && result.value.spec.user === user ? [result.value] : [])),
    devicesOf: (namespace, user) =>
      caches.devices
        .list(namespace)
        .map((object) => parseMfaDevice(object))
        .flatMap((result): MfaDevice[] => (result.ok && result.value.spec.user === user ? [result.value] : [])),
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

  async start(caches: AdmissionCaches, now: () => Date): Promise<number> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const source = certificateSource(core, this.namespace, this.options);
    const certificate = await source.load(now());
    this.current = certificate;
    const context = admissionContext(core, caches);
    const routes = new Map([
      [ACCESS_KEY_WEBHOOK_PATH, (request: Parameters<typeof admitAccessKey>[0]) => admitAccessKey(request, context)],
      [MFA_DEVICE_WEBHOOK_PATH, (request: Parameters<typeof admitMfaDevice>[0]) => admitMfaDevice(request, context)],
    ]);
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
    await registerWebhook(api, webhookConfiguration(endpointOf(this.options, this.namespace, this.port), caPem));
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
