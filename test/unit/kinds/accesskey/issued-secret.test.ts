import { describe, expect, it } from "vitest";
import { buildIssuedSecret } from "../../../../src/kinds/accesskey/issued-secret.js";
import { isOwnedSecret } from "../../../../src/runtime/kube.js";

const pair = { user: "alice", accessKeyId: "KGAKABCDEFGHIJKLMNOP", secretAccessKey: "s".repeat(40) };
const owner = { apiVersion: "iam.keygate.dev/v1alpha1", kind: "AccessKey", name: "k1", uid: "u1", controller: true };

describe("the issued Secret", () => {
  const secret = buildIssuedSecret({ namespace: "ns", secretName: "k1-credentials", owner }, pair);

  it("carries the pair in every form the SDKs and consoles use", () => {
    const data = secret.stringData ?? {};
    expect(data).toMatchObject({
      accessKeyId: pair.accessKeyId,
      secretAccessKey: pair.secretAccessKey,
      AWS_ACCESS_KEY_ID: pair.accessKeyId,
      AWS_SECRET_ACCESS_KEY: pair.secretAccessKey,
      ALIBABA_CLOUD_ACCESS_KEY_ID: pair.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: pair.secretAccessKey,
      HUAWEICLOUD_SDK_AK: pair.accessKeyId,
      HUAWEICLOUD_SDK_SK: pair.secretAccessKey,
    });
    expect(data.credentials).toBe(
      `[default]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n`,
    );
    expect(data["accessKeys.csv"]).toBe(`\uFEFFAccess key ID,Secret access key\r\n${pair.accessKeyId},${pair.secretAccessKey}\r\n`);
    expect(data["AccessKey.csv"]).toBe(`AccessKey ID,AccessKey Secret\r\n${pair.accessKeyId},${pair.secretAccessKey}\r\n`);
    expect(data["credentials.csv"]).toBe(`User Name,Access Key Id,Secret Access Key\r\n"alice",${pair.accessKeyId},${pair.secretAccessKey}\r\n`);
  });

  it("is immutable, labelled and controlled by its AccessKey", () => {
    expect(secret.immutable).toBe(true);
    expect(secret.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("keygate");
    expect(secret.metadata?.ownerReferences).toEqual([owner]);
    expect(isOwnedSecret(secret, "u1")).toBe(true);
  });

  it("is not ours when the label or the controller reference to this uid is missing", () => {
    expect(isOwnedSecret(secret, "other-uid")).toBe(false);
    expect(isOwnedSecret({ ...secret, metadata: { ...secret.metadata, labels: {} } }, "u1")).toBe(false);
    const notController = { ...secret, metadata: { ...secret.metadata, ownerReferences: [{ ...owner, controller: false }] } };
    expect(isOwnedSecret(notController, "u1")).toBe(false);
  });
});
