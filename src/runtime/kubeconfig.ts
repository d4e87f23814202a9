import { createHash } from "node:crypto";
import { Agent as HttpsAgent, type AgentOptions } from "node:https";
import * as k8s from "@kubernetes/client-node";

type TlsValue = string | Buffer | ReadonlyArray<string | Buffer> | undefined;

function digestOf(value: TlsValue): string {
  if (value === undefined) return "-";
  const parts = Array.isArray(value) ? (value as ReadonlyArray<string | Buffer>) : [value as string | Buffer];
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex");
}

// Everything of the options that decides the TLS session: certificates and keys by content, so
// a rotated client certificate (re-read from its file on every call) gets an agent of its own.
function agentKey(options: AgentOptions): string {
  return JSON.stringify([
    digestOf(options.ca),
    digestOf(options.cert),
    digestOf(options.key as TlsValue),
    digestOf(options.pfx as TlsValue),
    digestOf(options.passphrase),
    options.rejectUnauthorized,
    options.servername,
  ]);
}

// A client certificate rotates a few times a year at most; more distinct keys than this means
// something regenerates them per call, and keeping every agent would leak.
const MAX_AGENTS = 8;
// A connection left idle this long is closed rather than reused: an API server instance gone
// without closing it would otherwise take the next call.
const IDLE_SOCKET_MS = 30_000;

/**
 * A KubeConfig whose API calls share keep-alive connections. The client library builds a new
 * HTTPS agent for every call, so every call paid a TCP and TLS handshake, on our side and the
 * API server's. Here the agent it built is swapped for one kept per distinct TLS identity;
 * credentials sent as headers (bearer tokens, re-read as before) are not part of it. Watches
 * keep the library's own agent: they are few and long.
 */
export class PooledKubeConfig extends k8s.KubeConfig {
  private readonly agents = new Map<string, HttpsAgent>();

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const built = context.getAgent();
    // Proxy agents and plain HTTP keep the library's behaviour.
    if (!(built instanceof HttpsAgent) || built.constructor !== HttpsAgent) return;
    context.setAgent(this.pooled(built.options));
  }

  private pooled(options: AgentOptions): HttpsAgent {
    const key = agentKey(options);
    const existing = this.agents.get(key);
    if (existing) return existing;
    // The oldest identity is forgotten: a call still on one of its connections finishes, and its
    // idle connections close after IDLE_SOCKET_MS like any other.
    const oldest = this.agents.size >= MAX_AGENTS ? this.agents.keys().next().value : undefined;
    if (oldest !== undefined) this.agents.delete(oldest);
    const agent = new HttpsAgent({ ...options, keepAlive: true, timeout: IDLE_SOCKET_MS });
    this.agents.set(key, agent);
    return agent;
  }
}

/** The kubeconfig at `path`, or else from KUBECONFIG, ~/.kube/config or the in-cluster service account. */
export function loadKubeConfig(path: string | undefined): k8s.KubeConfig {
  const kc = new PooledKubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
