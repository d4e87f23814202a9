import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifests, toYaml } from "../../examples/typescript/manifests.js";
import { AccessKey, MfaDevice, TemporaryCredential } from "../../src/models/index.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { removeWebhookRegistrations } from "../support/webhooks.js";
import { waitFor } from "../support/wait.js";

interface Listed {
  items: Array<{ kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> }>;
}

// No operator runs here: what is checked is that the objects the models build are what the API
// server accepts and stores, with the CRDs' defaults filled in.
describe("the TypeScript models against the real API server", () => {
  const ns = useNamespace("models");
  const built = manifests();
  let stored: Listed["items"] = [];
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keygate-models-"));
    const file = join(dir, "manifests.yaml");
    await writeFile(file, toYaml(built));
    // An earlier test file's operator may have left its webhook registered and gone; the API
    // server drops a deleted registration a moment later, so the apply is retried until then.
    await removeWebhookRegistrations();
    await waitFor("the API server to admit without a webhook", () =>
      kubectl(["apply", "-n", ns.name, "-f", file]).then(
        () => true,
        () => undefined,
      ),
    );
    const { stdout } = await kubectl(["get", "-n", ns.name, "accesskeys,mfadevices,temporarycredentials", "-o", "json"]);
    stored = (JSON.parse(stdout) as Listed).items;
  });

  afterAll(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  function storedAs(kind: string, name: string): Listed["items"][number] | undefined {
    return stored.find((item) => item.kind === kind && item.metadata.name === name);
  }

  it.each(built.map((object) => [object.kind, object] as const))("stores the %s as built", (kind, object) => {
    const name = object.metadata?.name ?? "";
    expect(storedAs(kind, name)).toMatchObject({ ...(object.toJSON() as object), metadata: { name, namespace: ns.name } });
  });

  it("fills in the CRD's default: the key is Active", () => {
    const key = built[0];
    expect(storedAs("AccessKey", key.metadata?.name ?? "")?.spec.state).toBe("Active");
  });

  it("reads each stored object back into a model that validates", () => {
    expect(stored.map((item) => item.kind).sort()).toEqual(["AccessKey", "MfaDevice", "TemporaryCredential"]);
    for (const item of stored) {
      const model = asModel(item);
      expect(model, item.kind).toBeDefined();
      expect(() => model?.validate(), item.kind).not.toThrow();
    }
  });
});

function asModel(object: unknown): AccessKey | MfaDevice | TemporaryCredential | undefined {
  if (AccessKey.is(object)) return new AccessKey(object);
  if (MfaDevice.is(object)) return new MfaDevice(object);
  if (TemporaryCredential.is(object)) return new TemporaryCredential(object);
  return undefined;
}
