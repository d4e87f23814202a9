import { Agent } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { PooledKubeConfig } from "../../../src/runtime/kubeconfig.js";

function configWith(kc: k8s.KubeConfig, certData: string, proxyUrl?: string): k8s.KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: Buffer.from("ca").toString("base64"), proxyUrl, skipTLSVerify: false }],
    users: [{ name: "u", certData: Buffer.from(certData).toString("base64"), keyData: Buffer.from("key").toString("base64") }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

async function agentFor(kc: k8s.KubeConfig): Promise<unknown> {
  const context = new k8s.RequestContext("https://127.0.0.1:6443/api", k8s.HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getAgent();
}

describe("API calls on shared keep-alive connections", () => {
  it("gives every call of one TLS identity the same keep-alive agent", async () => {
    const kc = configWith(new PooledKubeConfig(), "cert-1");
    const first = await agentFor(kc);
    expect(first).toBeInstanceOf(Agent);
    expect((first as Agent & { keepAlive?: boolean }).keepAlive).toBe(true);
    expect(await agentFor(kc)).toBe(first);
  });

  it("builds another agent when the client certificate changed", async () => {
    const kc = configWith(new PooledKubeConfig(), "cert-1");
    const first = await agentFor(kc);
    configWith(kc, "cert-2");
    expect(await agentFor(kc)).not.toBe(first);
  });

  it("where the library alone builds a new agent per call", async () => {
    const kc = configWith(new k8s.KubeConfig(), "cert-1");
    expect(await agentFor(kc)).not.toBe(await agentFor(kc));
  });
});

describe("pooled connections left idle", () => {
  it("are closed after 30 s rather than reused indefinitely", async () => {
    const agent = (await agentFor(configWith(new PooledKubeConfig(), "cert-1"))) as Agent & { options: { timeout?: number } };
    expect(agent.options.timeout).toBe(30_000);
  });
});
