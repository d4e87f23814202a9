// `npm run demo`: the main job, end to end. A local control plane with the operator and the
// verifier, an AccessKey issued into a Secret, a request signed with that key by the AWS SDK v3
// signer and allowed by the verifier, then denied once the key is set Inactive.
// With --exit it tears everything down afterwards (the test suite runs it so).
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import * as k8s from "@kubernetes/client-node";
import { Command } from "commander";
import { stringify } from "yaml";
import { kubectl } from "../src/controlplane/kubectl.js";
import { type DevEnvironment, howTo, startDev } from "../src/dev/dev.js";

// The operator's own log lines would drown the story; warnings and errors still show.
process.env.KEYGATE_LOG_LEVEL ??= "warn";

const NAMESPACE = "demo";
const KEY = "orders-client";

function say(message: string): void {
  console.log(`\n▶ ${message}`);
}

async function kubectlApply(env: DevEnvironment, manifest: object): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  const file = `${env.controlPlane.stateDir}/demo-${Date.now()}.yaml`;
  await writeFile(file, stringify(manifest));
  const { stdout } = await kubectl(env.controlPlane.binaries, env.info.kubeconfig, ["apply", "-f", file]);
  process.stdout.write(stdout);
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface DemoCredentials {
  id: string;
  secret: string;
  sessionToken?: string;
}

/** Reads an issued Secret the way a workload's environment would get it. */
async function issuedCredentials(env: DevEnvironment, secretName: string): Promise<DemoCredentials> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.info.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const secret = await until("the issued Secret", () =>
    core.readNamespacedSecret({ namespace: NAMESPACE, name: secretName }).catch(() => undefined),
  );
  const read = (field: string): string => Buffer.from(secret.data?.[field] ?? "", "base64").toString("utf8");
  const sessionToken = read("AWS_SESSION_TOKEN");
  return { id: read("AWS_ACCESS_KEY_ID"), secret: read("AWS_SECRET_ACCESS_KEY"), ...(sessionToken ? { sessionToken } : {}) };
}

/** Signs like any AWS SDK v3 client would, then asks the verifier about the request as received. */
async function signAndVerify(verifierUrl: string, key: DemoCredentials): Promise<unknown> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret, sessionToken: key.sessionToken },
    region: "eu-west-1",
    service: "orders",
    sha256: Hash.bind(null, "sha256"),
  });
  const request = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname: "orders.demo.svc",
    path: "/v1/orders",
    query: { limit: "10" },
    headers: { host: "orders.demo.svc" },
  });
  const signed = await signer.sign(request);
  const response = await fetch(`${verifierUrl}/v1/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method: signed.method, url: "/v1/orders?limit=10", headers: signed.headers }),
  });
  return response.json();
}

async function scenario(env: DevEnvironment): Promise<void> {
  say(`kubectl apply: namespace ${NAMESPACE} and AccessKey ${KEY} for user orders-client`);
  await kubectlApply(env, { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
  await kubectlApply(env, {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name: KEY, namespace: NAMESPACE },
    spec: { user: "orders-client", description: "demo" },
  });
  const key = await issuedCredentials(env, `${KEY}-credentials`);
  const { stdout } = await kubectl(env.controlPlane.binaries, env.info.kubeconfig, ["get", "accesskeys", "-n", NAMESPACE]);
  say(`issued ${key.id} into Secret ${KEY}-credentials (the secret is shown nowhere else)\n${stdout}`);

  say("a request signed by the AWS SDK v3 signer, checked by the verifier");
  console.log(JSON.stringify(await signAndVerify(env.info.verifierUrl ?? "", key), null, 2));

  say(`kubectl patch accesskey ${KEY}: spec.state=Inactive`);
  await kubectl(env.controlPlane.binaries, env.info.kubeconfig, [
    "patch", "accesskey", KEY, "-n", NAMESPACE, "--type=merge", "-p", '{"spec":{"state":"Inactive"}}',
  ]);
  const denied = await until("the verifier to refuse the inactive key", async () => {
    const answer = (await signAndVerify(env.info.verifierUrl ?? "", key)) as { allowed?: boolean };
    return answer.allowed === false ? answer : undefined;
  });
  say("the same request, signed again with the now inactive key");
  console.log(JSON.stringify(denied, null, 2));

  say("kubectl apply: a 15-minute TemporaryCredential (temporary key, secret and session token)");
  await kubectlApply(env, {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "TemporaryCredential",
    metadata: { name: "orders-session", namespace: NAMESPACE },
    spec: { user: "orders-client", durationSeconds: 900 },
  });
  const session = await issuedCredentials(env, "orders-session-credentials");
  say(`a request signed by the AWS SDK v3 signer with session ${session.id} and its token`);
  console.log(JSON.stringify(await signAndVerify(env.info.verifierUrl ?? "", session), null, 2));
}

const options = new Command("demo")
  .option("--state-dir <dir>", "where the control plane keeps its state", ".keygate/dev")
  .option("--exit", "tear down after the scenario instead of staying up")
  .parse(process.argv)
  .opts<{ stateDir: string; exit?: boolean }>();

const env = await startDev({ stateDir: options.stateDir, progress: (message) => console.error(`keygate: ${message}`) });
try {
  await scenario(env);
} catch (error) {
  await env.stop();
  throw error;
}
if (options.exit) {
  await env.stop();
  say("demo finished; everything torn down");
} else {
  console.log(`\n${howTo(env)}`);
  const shutdown = (): void => {
    env.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
