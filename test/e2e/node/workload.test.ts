import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { NGINX_IMAGE } from "../../../src/controlplane/images.js";
import { gatewayConfig, substitute } from "../../support/gateways/doc.js";
import { buildTestImage, NodeCluster, nodeOrSkip } from "./cluster.js";
import { type Call, callsOf, firstCall as firstCallOf, WORKLOAD_NAMESPACE } from "./workload-calls.js";

// Workloads as users run them: a Pod mounts an issued Secret (as a volume, or envFrom), AWS's SDK
// (botocore) in it signs calls to a demo API behind an NGINX gateway Pod configured from
// docs/gateways.md, which asks the verifier Service. The chart is installed by chart.test.ts. The
// session's Pod keeps calling: expiry.test.ts checks it is refused once the session expires.

const info = nodeOrSkip("workload.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;
const NS = WORKLOAD_NAMESPACE;
const WORKLOAD_IMAGE = "keygate.local/e2e-workload:1";
const GATEWAY_URL = `http://gateway.${NS}.svc:8080/orders/4711`;

// The demo API answers with who the gateway says called: the verifier's answer, passed upstream.
const DEMO_API = `
apiVersion: v1
kind: Pod
metadata: {name: demo-api, labels: {app: demo-api}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532}
  containers:
    - name: api
      image: keygate.local/node-base:${process.versions.node}
      imagePullPolicy: Never
      command: ["node", "-e", "require('http').createServer((q, s) => s.end(JSON.stringify({user: q.headers['x-keygate-user'], namespace: q.headers['x-keygate-namespace'], service: q.headers['x-keygate-service']}))).listen(8080)"]
---
apiVersion: v1
kind: Service
metadata: {name: demo-api}
spec: {selector: {app: demo-api}, ports: [{port: 80, targetPort: 8080}]}
`;

/** The documented server block, listening in plain HTTP inside the cluster, in front of the demo API. */
function gatewayManifest(): string {
  const site = substitute(gatewayConfig("nginx"), "listen 443 ssl;", "listen 8080;");
  const conf = `upstream backend { server demo-api.${NS}.svc:80; }\n${site}`;
  const indented = conf.split("\n").map((line) => `    ${line}`).join("\n");
  return `
apiVersion: v1
kind: ConfigMap
metadata: {name: gateway}
data:
  gateway.conf: |
${indented}
---
apiVersion: v1
kind: Pod
metadata: {name: gateway, labels: {app: gateway}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532}
  containers:
    - name: nginx
      image: ${NGINX_IMAGE}
      imagePullPolicy: Never
      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
      volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}, {name: tmp, mountPath: /tmp}]
  volumes: [{name: conf, configMap: {name: gateway}}, {name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: gateway}
spec: {selector: {app: gateway}, ports: [{port: 8080, targetPort: 8080}]}
`;
}

/** A Pod that reads the Secret from a mounted file (AWS_SHARED_CREDENTIALS_FILE) or from its environment. */
function workloadPod(name: string, secret: string, from: "volume" | "env"): string {
  const credentials =
    from === "volume"
      ? `      env: [{name: TARGET_URL, value: "${GATEWAY_URL}"}, {name: AWS_SHARED_CREDENTIALS_FILE, value: /var/run/keygate/credentials}]
      volumeMounts: [{name: key, mountPath: /var/run/keygate, readOnly: true}]
  volumes: [{name: key, secret: {secretName: ${secret}}}]`
      : `      env: [{name: TARGET_URL, value: "${GATEWAY_URL}"}]
      envFrom: [{secretRef: {name: ${secret}}}]`;
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532}
  containers:
    - name: app
      image: ${WORKLOAD_IMAGE}
      imagePullPolicy: Never
${credentials}
`;
}

describe.skipIf(!cluster)("workloads that mount issued Secrets, behind a real gateway", () => {
  const c = cluster as NodeCluster;

  const calls = (pod: string): Promise<Call[]> => callsOf(c, pod);
  const firstCall = (pod: string, since: number, matches: (call: Call) => boolean): Promise<Call> => firstCallOf(c, pod, since, matches);

  async function issueKey(name: string, user: string): Promise<void> {
    await c.apply(`apiVersion: iam.keygate.dev/v1alpha1\nkind: AccessKey\nmetadata: {name: ${name}}\nspec: {user: ${user}}\n`, NS);
    await c.kubectl(["-n", NS, "wait", "--for=jsonpath={.status.state}=Active", `accesskey/${name}`, "--timeout=60s"]);
  }

  beforeAll(async () => {
    await buildTestImage(WORKLOAD_IMAGE, fileURLToPath(new URL("./workload", import.meta.url)), info?.stateDir ?? "");
    await c.kubectl(["create", "namespace", NS]);
    await c.apply(DEMO_API, NS);
    await c.apply(gatewayManifest(), NS);
    await c.kubectl(["-n", NS, "wait", "--for=condition=Ready", "pod/demo-api", "pod/gateway", "--timeout=120s"]);
  });

  it("allows calls signed with a mounted key, and denies them once the key is Inactive", async () => {
    await issueKey("app-key", "app");
    await c.apply(workloadPod("from-volume", "app-key-credentials", "volume"), NS);
    await c.apply(workloadPod("from-env", "app-key-credentials", "env"), NS);
    await c.kubectl(["-n", NS, "wait", "--for=condition=Ready", "pod/from-volume", "pod/from-env", "--timeout=120s"]);
    for (const pod of ["from-volume", "from-env"]) {
      const allowed = await firstCall(pod, 0, (call) => call.status === 200);
      expect(JSON.parse(allowed.body)).toEqual({ user: "app", namespace: NS, service: "execute-api" });
    }
    const deactivatedAt = Date.now();
    await c.kubectl(["-n", NS, "patch", "accesskey/app-key", "--type=merge", "-p", '{"spec":{"state":"Inactive"}}']);
    for (const pod of ["from-volume", "from-env"]) {
      const denied = await firstCall(pod, deactivatedAt, (call) => call.status === 403);
      process.stderr.write(`[workload] ${pod}: first call denied ${denied.at - deactivatedAt} ms after the key was set Inactive\n`);
      // The verifiers watch AccessKeys: the first call refused comes within a few of the loop's
      // 200 ms periods, not at a resync. The bound is loose for a loaded machine.
      expect(denied.at - deactivatedAt).toBeLessThan(5_000);
      // And stays denied: the five calls that follow a second after the first refusal.
      await firstCall(pod, denied.at + 2_000, () => true);
      const after = (await calls(pod)).filter((call) => call.at > denied.at + 1_000).slice(0, 5);
      expect(after.map((call) => call.status)).toEqual([403, 403, 403, 403, 403]);
    }
  });

  it("allows calls signed with a TemporaryCredential's session, read from its Secret", async () => {
    await issueKey("session-key", "deployer");
    await c.apply(`apiVersion: iam.keygate.dev/v1alpha1\nkind: TemporaryCredential\nmetadata: {name: deploy}\nspec: {user: deployer, durationSeconds: 900}\n`, NS);
    await c.kubectl(["-n", NS, "wait", "--for=condition=Ready", "temporarycredential/deploy", "--timeout=60s"]);
    await c.apply(workloadPod("session", "deploy-credentials", "env"), NS);
    await c.kubectl(["-n", NS, "wait", "--for=condition=Ready", "pod/session", "--timeout=120s"]);
    const allowed = await firstCall("session", 0, (call) => call.status === 200);
    expect(JSON.parse(allowed.body)).toMatchObject({ user: "deployer", namespace: NS });
  });
});
