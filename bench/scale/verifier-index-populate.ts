// Fills a real cluster with access keys as the operator leaves them: an AccessKey with its
// finalizer and its status written, and its keystore record Secret (recordToSecret, the secret
// sealed under the cluster's real KEK). Keys are numbered, so filling is resumable: key i is
// `key-<i>` in namespace `bench-<i mod NAMESPACES>`, and a ConfigMap remembers how many exist.
import { randomBytes } from "node:crypto";
import * as https from "node:https";
import * as k8s from "@kubernetes/client-node";
import { ACCESS_KEY_KIND, ACCESS_KEY_PLURAL } from "../../src/api/accesskey.js";
import { GROUP, VERSION } from "../../src/api/group.js";
import { BASE32_ALPHABET, LONG_TERM_PREFIX } from "../../src/credentials/format.js";
import { type KekSet, loadOrCreateKek } from "../../src/keystore/kek.js";
import { recordToSecret, sealSecret } from "../../src/keystore/record.js";
import { FINALIZER } from "../../src/labels.js";
import { isApiStatus } from "../../src/runtime/errors.js";

export const NAMESPACES = 100;
const PROGRESS_NAME = "bench-verifier-index";

export function accessKeyIdOf(index: number): string {
  let id = "";
  let rest = index;
  for (let i = 0; i < 16; i++) {
    id = (BASE32_ALPHABET[rest % 32] ?? "A") + id;
    rest = Math.floor(rest / 32);
  }
  return `${LONG_TERM_PREFIX}${id}`;
}

// client-node makes a new TLS connection per call; keep-alive makes filling the cluster ~5× faster.
class Api {
  private readonly agent: https.Agent;
  private readonly server: URL;

  private constructor(server: string, options: https.AgentOptions) {
    this.server = new URL(server);
    this.agent = new https.Agent({ ...options, keepAlive: true, maxSockets: 64 });
  }

  static async of(kc: k8s.KubeConfig): Promise<Api> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    return new Api(cluster.server, { ca: options.ca, cert: options.cert, key: options.key });
  }

  /** The answer; 409 (already there) is not an error. */
  call(method: string, path: string, body: unknown, contentType = "application/json"): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        { host: this.server.hostname, port: this.server.port, path, method, agent: this.agent, headers: { "Content-Type": contentType } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            if ((status >= 200 && status < 300) || status === 409) resolve({ status, body: JSON.parse(text) as unknown });
            else reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 300)}`));
          });
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

const ACCESS_KEYS = (namespace: string): string => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${ACCESS_KEY_PLURAL}`;

async function createAccessKey(api: Api, namespace: string, name: string, user: string): Promise<string> {
  const body = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: ACCESS_KEY_KIND,
    metadata: { name, namespace, finalizers: [FINALIZER] },
    spec: { user, state: "Active", description: `benchmark key ${name}` },
  };
  let answer = await api.call("POST", ACCESS_KEYS(namespace), body);
  if (answer.status === 409) answer = await api.call("GET", `${ACCESS_KEYS(namespace)}/${name}`, undefined);
  return (answer.body as k8s.KubernetesObject).metadata?.uid ?? "";
}

// As the operator writes it once the key is issued.
function issuedStatus(accessKeyId: string, name: string, at: string): Record<string, unknown> {
  return {
    accessKeyId,
    createdAt: at,
    state: "Active",
    lastUsed: { time: at },
    secretRef: { name: `${name}-credentials` },
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Issued",
        message: `Key ${accessKeyId} issued into Secret ${name}-credentials`,
        observedGeneration: 1,
        lastTransitionTime: at,
      },
    ],
    observedGeneration: 1,
  };
}

async function createKey(api: Api, keks: KekSet, operatorNamespace: string, index: number): Promise<void> {
  const namespace = `bench-${index % NAMESPACES}`;
  const name = `key-${index}`;
  const user = `user-${Math.floor(index / 2)}`;
  const accessKeyId = accessKeyIdOf(index);
  const at = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const uid = await createAccessKey(api, namespace, name, user);
  const secret = randomBytes(30).toString("base64url");
  const record = recordToSecret(
    {
      accessKeyId,
      namespace,
      user,
      ownerUid: uid,
      state: "Active",
      createdAt: at,
      issuedSecret: `${name}-credentials`,
      sealed: sealSecret(keks, namespace, accessKeyId, secret),
    },
    operatorNamespace,
  );
  await api.call("POST", `/api/v1/namespaces/${operatorNamespace}/secrets`, record);
  const status = { status: issuedStatus(accessKeyId, name, at) };
  await api.call("PATCH", `${ACCESS_KEYS(namespace)}/${name}/status`, status, "application/merge-patch+json");
}

interface Apis {
  readonly core: k8s.CoreV1Api;
}

async function ignoreConflict(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isApiStatus(error, 409)) throw error;
  }
}

/** How many keys the cluster holds already. */
export async function populated(kc: k8s.KubeConfig, operatorNamespace: string): Promise<number> {
  return countOf({ core: kc.makeApiClient(k8s.CoreV1Api) }, operatorNamespace);
}

async function countOf(apis: Apis, operatorNamespace: string): Promise<number> {
  try {
    const map = await apis.core.readNamespacedConfigMap({ namespace: operatorNamespace, name: PROGRESS_NAME });
    return Number(map.data?.count ?? 0);
  } catch (error) {
    if (isApiStatus(error, 404)) return 0;
    throw error;
  }
}

async function notePopulated(apis: Apis, operatorNamespace: string, count: number): Promise<void> {
  const body: k8s.V1ConfigMap = { metadata: { name: PROGRESS_NAME, namespace: operatorNamespace }, data: { count: String(count) } };
  try {
    await apis.core.replaceNamespacedConfigMap({ namespace: operatorNamespace, name: PROGRESS_NAME, body });
  } catch (error) {
    if (!isApiStatus(error, 404)) throw error;
    await apis.core.createNamespacedConfigMap({ namespace: operatorNamespace, body });
  }
}

/** The operator namespace, the KEK and the key namespaces; returns the KEK. */
export async function prepare(kc: k8s.KubeConfig, operatorNamespace: string): Promise<KekSet> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const name of [operatorNamespace, ...Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`)]) {
    await ignoreConflict(() => core.createNamespace({ body: { metadata: { name } } }));
  }
  return loadOrCreateKek(core, operatorNamespace);
}

export interface PopulateOptions {
  readonly keks: KekSet;
  readonly operatorNamespace: string;
  readonly concurrency: number;
  readonly progress: (message: string) => void;
}

/** Creates keys until there are `target`; returns how long it took. */
export async function populate(kc: k8s.KubeConfig, target: number, options: PopulateOptions): Promise<number> {
  const { keks, operatorNamespace } = options;
  const apis: Apis = { core: kc.makeApiClient(k8s.CoreV1Api) };
  const from = await countOf(apis, operatorNamespace);
  if (from >= target) return 0;
  const api = await Api.of(kc);
  const started = Date.now();
  let next = from;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < target) {
      const index = next++;
      await createKey(api, keks, operatorNamespace, index);
      done += 1;
      if (done % 5000 === 0) {
        const rate = Math.round(done / ((Date.now() - started) / 1000));
        options.progress(`${from + done}/${target} keys (${rate}/s)`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    api.close();
  }
  await notePopulated(apis, operatorNamespace, target);
  return Date.now() - started;
}
