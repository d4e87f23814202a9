import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type AccessKey, parseAccessKey } from "../api/accesskey.js";
import { type MfaDevice, parseMfaDevice } from "../api/mfadevice.js";
import type { Informer } from "../runtime/informer.js";
import { type AdmissionContext, admitAccessKey, admitMfaDevice } from "../webhook/admission.js";
import { ensureWebhookCertificate, type ServingIdentity } from "../webhook/certificate.js";
import { registerWebhook, WEBHOOK_CONFIGURATION_NAME, type WebhookEndpoint, webhookConfiguration } from "../webhook/registration.js";
import { ACCESS_KEY_WEBHOOK_PATH, MFA_DEVICE_WEBHOOK_PATH, WebhookServer } from "../webhook/server.js";

export interface WebhookOptions {
  host: string;
  port: number;
  /** Address the API server dials for a URL endpoint (local runs); unused with `service`. */
  publicHost?: string;
  /** The in-cluster Service in front of the operator. */
  service?: { name: string; port: number };
}

const RENEW_CHECK_MS = 12 * 60 * 60 * 1000;

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
  private caPem = "";

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly options: WebhookOptions,
    private readonly log: Logger,
  ) {}

  async start(caches: AdmissionCaches, now: () => Date): Promise<number> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const identity = servingIdentity(this.options, this.namespace);
    const certificate = await ensureWebhookCertificate(core, this.namespace, identity, now());
    this.caPem = certificate.caPem;
    const context = admissionContext(core, caches);
    const routes = new Map([
      [ACCESS_KEY_WEBHOOK_PATH, (request: Parameters<typeof admitAccessKey>[0]) => admitAccessKey(request, context)],
      [MFA_DEVICE_WEBHOOK_PATH, (request: Parameters<typeof admitMfaDevice>[0]) => admitMfaDevice(request, context)],
    ]);
    this.server = new WebhookServer(certificate, routes, this.log);
    this.port = await this.server.listen(this.options.port, this.options.host);
    await this.register();
    this.renewTimer = setInterval(() => {
      this.renew(core, identity, now()).catch((error: unknown) =>
        this.log.warn({ err: String(error) }, "webhook certificate renewal failed; will retry"),
      );
    }, RENEW_CHECK_MS);
    this.renewTimer.unref();
    return this.port;
  }

  private async renew(core: k8s.CoreV1Api, identity: ServingIdentity, now: Date): Promise<void> {
    const certificate = await ensureWebhookCertificate(core, this.namespace, identity, now);
    this.server?.rotate(certificate);
    if (certificate.caPem !== this.caPem) {
      this.caPem = certificate.caPem;
      await this.register();
    }
  }

  register(): Promise<void> {
    const api = this.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    return registerWebhook(api, webhookConfiguration(endpointOf(this.options, this.namespace, this.port), this.caPem));
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
