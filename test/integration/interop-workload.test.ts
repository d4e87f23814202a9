import { join } from "node:path";
import type { Readable } from "node:stream";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromIni } from "@aws-sdk/credential-provider-ini";
import { Hash } from "@smithy/hash-node";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { signWith, type SignerName, type SignInput } from "../interop/signers/index.js";
import { apply, manifest, waitForReason } from "../support/accesskeys.js";
import { useNamespace } from "../support/cluster.js";
import { mountSecretVolume, readMounted, withEnv } from "../support/interop-workload.js";
import { LogCapture } from "../support/log-capture.js";
import { capturingLogger, startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { postVerify, verifyBody, type HttpAnswer } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

// A workload's view: the operator issues an AccessKey, its Secret is mounted as a volume, and
// the clouds' own SDKs read the key from there and sign with it; the verifier, fed by the real
// API server, must recognise every one of those requests as the key's owner's.

const API_HOST = "api.example.test";
const REGION = "eu-central-1";

interface Mounted {
  readonly dir: string;
  readonly accessKeyId: string;
  readonly secret: string;
}

/** A request as the SDK's HttpRequest holds it, turned into what the verifier is told arrived. */
function described(signed: HttpRequest): HttpRequestDescription {
  const query = Object.entries(signed.query)
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(v ?? "")}`))
    .join("&");
  const body = typeof signed.body === "string" ? Buffer.from(signed.body) : (signed.body as Buffer | undefined);
  return { method: signed.method, rawPath: signed.path, rawQuery: query, headers: Object.entries(signed.headers), body };
}

type Credentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];
type Identity = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

function signer(credentials: Credentials): SignatureV4 {
  return new SignatureV4({ service: "things", region: REGION, credentials, sha256: Hash.bind(null, "sha256") });
}

function apiRequest(): HttpRequest {
  return new HttpRequest({
    method: "PUT",
    protocol: "https:",
    hostname: API_HOST,
    path: "/v1/things/a%20b",
    query: { marker: "x y", limit: "2" },
    headers: { host: API_HOST, "content-type": "application/json" },
    body: '{"name":"ü thing"}',
  });
}

describe("keys issued by the real operator, read and used by the SDKs as a workload would", () => {
  const ns = useNamespace("interop");
  const logs = new LogCapture();
  let op: TestOperator;
  let verifier: RunningVerifier;
  let mounted: Mounted;

  beforeAll(async () => {
    op = await startTestOperator();
    verifier = await startTestVerifier(op.namespace, { trustLoopback: true, lastUsedFlushMs: 1000, log: capturingLogger(logs) });
    await apply(ns, [manifest("workload", { user: "alice" })]);
    const key = await waitForReason(ns, "workload", "Issued");
    const secret = await ns.core.readNamespacedSecret({ namespace: ns.name, name: key.status?.secretRef?.name ?? "" });
    // The volume gets the Secret's data exactly as the API server holds it.
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([name, value]) => [name, Buffer.from(value, "base64").toString("utf8")]));
    const dir = await mountSecretVolume(data);
    mounted = { dir, accessKeyId: await readMounted(dir, "accessKeyId"), secret: await readMounted(dir, "secretAccessKey") };
  });

  afterAll(async () => {
    await verifier.stop();
    await op.operator.stop();
    // No secret reaches a log line, and neither does a signature.
    const text = logs.text() + op.logs.text();
    if (mounted) expect(text).not.toContain(mounted.secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/);
  });

  function expectPrincipal(answer: HttpAnswer, scheme: string): void {
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({
      allowed: true,
      scheme,
      principal: { namespace: ns.name, user: "alice", accessKeyId: mounted.accessKeyId, credentialType: "AccessKey", mfaAuthenticated: false },
    });
  }

  /** The issued key verifies once the verifier's index has it (watch latency). */
  async function verifiedOnce(request: () => Promise<HttpRequestDescription>): Promise<HttpAnswer> {
    return waitFor("the issued key to verify", async () => {
      const answer = await postVerify(verifier.url, verifyBody(await request()));
      return answer.status === 200 ? answer : undefined;
    }, 10_000).catch(async () => postVerify(verifier.url, verifyBody(await request())));
  }

  it("mounts the Secret with every form the SDKs read: the shared credentials file and one file per variable", async () => {
    expect(mounted.accessKeyId).toMatch(/^KGAK[A-Z2-7]{16}$/);
    expect(await readMounted(mounted.dir, "credentials")).toBe(`[default]\naws_access_key_id = ${mounted.accessKeyId}\naws_secret_access_key = ${mounted.secret}\n`);
    expect(await readMounted(mounted.dir, "AWS_ACCESS_KEY_ID")).toBe(mounted.accessKeyId);
    expect(await readMounted(mounted.dir, "AWS_SECRET_ACCESS_KEY")).toBe(mounted.secret);
  });

  it("fromIni reads the mounted credentials file (AWS_SHARED_CREDENTIALS_FILE); @smithy/signature-v4 signs; the verifier names the owner", async () => {
    const env = {
      AWS_SHARED_CREDENTIALS_FILE: join(mounted.dir, "credentials"),
      // Not the user's own config or profile: only the mounted file.
      AWS_CONFIG_FILE: join(mounted.dir, "no-config"),
      AWS_PROFILE: undefined,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
    };
    const sign = (): Promise<HttpRequestDescription> => withEnv(env, async () => described((await signer(fromIni({ ignoreCache: true })).sign(apiRequest())) as HttpRequest));
    const resolved: Identity = await withEnv(env, () => fromIni({ ignoreCache: true })());
    expect(resolved).toMatchObject({ accessKeyId: mounted.accessKeyId, secretAccessKey: mounted.secret });
    expect(resolved.sessionToken).toBeUndefined();
    expectPrincipal(await verifiedOnce(sign), "AWS4-HMAC-SHA256");
  });

  it("fromEnv reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set from the mounted files; a presigned URL verifies", async () => {
    const env = {
      AWS_ACCESS_KEY_ID: await readMounted(mounted.dir, "AWS_ACCESS_KEY_ID"),
      AWS_SECRET_ACCESS_KEY: await readMounted(mounted.dir, "AWS_SECRET_ACCESS_KEY"),
      AWS_SESSION_TOKEN: undefined,
      AWS_CREDENTIAL_SCOPE: undefined,
    };
    const presign = (): Promise<HttpRequestDescription> =>
      withEnv(env, async () => described((await signer(fromEnv()).presign(new HttpRequest({ ...apiRequest(), method: "GET", body: undefined }), { expiresIn: 300 })) as HttpRequest));
    expectPrincipal(await verifiedOnce(presign), "AWS4-HMAC-SHA256");
    const header = await withEnv(env, async () => described((await signer(fromEnv()).sign(apiRequest())) as HttpRequest));
    expectPrincipal(await postVerify(verifier.url, verifyBody(header)), "AWS4-HMAC-SHA256");
  });

  it("the SDK's own transport sends a signed owner lookup straight to the verifier, which answers it", async () => {
    const { hostname, port } = new URL(verifier.url);
    const lookup = new HttpRequest({ method: "GET", protocol: "http:", hostname, port: Number(port), path: `/v1/access-keys/${mounted.accessKeyId}/owner`, headers: { host: `${hostname}:${port}` } });
    const env = { AWS_SHARED_CREDENTIALS_FILE: join(mounted.dir, "credentials"), AWS_CONFIG_FILE: join(mounted.dir, "no-config"), AWS_PROFILE: undefined };
    const signed = (await withEnv(env, () => signer(fromIni({ ignoreCache: true })).sign(lookup))) as HttpRequest;
    const handler = new NodeHttpHandler();
    try {
      const { response } = await handler.handle(signed);
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as Readable) chunks.push(chunk as Buffer);
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(Buffer.concat(chunks).toString("utf8"))).toEqual({ accessKeyId: mounted.accessKeyId, namespace: ns.name, user: "alice" });
    } finally {
      handler.destroy();
    }
  });

  // Each SDK's own variables: Alibaba's and Huawei's clients read theirs from the environment,
  // botocore and aws4 AWS's. The files hold the same pair under every name.
  const OTHERS: ReadonlyArray<[SignerName, string, string, string]> = [
    ["botocore", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS4-HMAC-SHA256"],
    ["aws4", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS4-HMAC-SHA256"],
    ["alibaba-openapi-util", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ACS3-HMAC-SHA256"],
    ["huawei-sdk-core", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "SDK-HMAC-SHA256"],
  ];

  it.each(OTHERS)("%s signs with the mounted key (%s, %s) and the verifier names the owner", async (name, idFile, secretFile, scheme) => {
    const input = async (): Promise<SignInput> => ({
      accessKeyId: await readMounted(mounted.dir, idFile),
      secret: await readMounted(mounted.dir, secretFile),
      time: new Date(),
      method: "POST",
      url: `https://${API_HOST}/v1/things/a%20b`,
      query: [["marker", "x y"]],
      headers: [["Content-Type", "application/json"], ...(scheme === "ACS3-HMAC-SHA256" ? ([["x-acs-action", "CreateThing"], ["x-acs-version", "2024-05-01"]] as const) : [])],
      body: '{"name":"ü thing"}',
      aws: { region: REGION, service: "things" },
    });
    expectPrincipal(await verifiedOnce(async () => signWith(name, await input())), scheme);
  });
});
