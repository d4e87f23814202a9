import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubectl, useNamespace } from "../support/cluster.js";
import { type Manifest, parseManifests, readText, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

// The release whose CRDs a cluster is upgraded from (see crds/previous/*/README.md).
const PREVIOUS_VERSION = "0.1.0";
const PREVIOUS_DIR = `crds/previous/${PREVIOUS_VERSION}`;
// The shared test cluster runs the current CRDs under iam.keygate.dev; the upgrade is played
// under a group of its own, so that applying older CRDs never disturbs them. Nothing in the
// schemas depends on the group's name.
const GROUP = "iam.keygate.dev";
const TEST_GROUP = "upgrade.test.keygate.dev";
const VERSION = "v1alpha1";

interface Stored {
  spec: unknown;
  status: unknown;
}

function regroup(text: string): string {
  return text.replaceAll(GROUP, TEST_GROUP);
}

async function crdFiles(dir: string): Promise<string[]> {
  const names = await readdir(join(REPOSITORY_ROOT, dir));
  return names.filter((name) => name.endsWith(".yaml") && name !== "objects.yaml").sort().map((name) => join(dir, name));
}

function plural(kind: string, crds: readonly Manifest[]): string {
  const crd = crds.find((candidate) => (candidate.spec as { names: { kind: string } }).names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return (crd.spec as { names: { plural: string } }).names.plural;
}

describe(`an upgrade from the CRDs of ${PREVIOUS_VERSION} to the current ones`, () => {
  const ns = useNamespace("pkg-upgrade");
  const custom = ns.custom;
  let scratch: string;
  let crds: Manifest[];
  let objects: Manifest[];
  const before = new Map<string, Stored>();

  /** Applies CRD files (regrouped) for real, server-side as an upgrade would, and waits until served. */
  async function applyCrds(files: readonly string[], name: string): Promise<Manifest[]> {
    const text = files.map((file) => regroup(readText(file))).join("\n---\n");
    const path = join(scratch, `${name}.yaml`);
    await writeFile(path, text);
    await kubectl(["apply", "--server-side", "--force-conflicts", "-f", path]);
    await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", path]);
    return parseManifests(text);
  }

  async function read(object: Manifest): Promise<Stored> {
    const found = (await custom.getNamespacedCustomObject({
      group: TEST_GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: plural(object.kind, crds),
      name: object.metadata.name,
    })) as { spec: unknown; status: unknown };
    return { spec: found.spec, status: found.status };
  }

  async function writeStatus(object: Manifest, dryRun?: string): Promise<void> {
    if (object.status === undefined) return;
    await custom.patchNamespacedCustomObjectStatus(
      { group: TEST_GROUP, version: VERSION, namespace: ns.name, plural: plural(object.kind, crds), name: object.metadata.name, body: { status: object.status }, dryRun, fieldValidation: "Strict" },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  /** Objects without status, for the main resource (status goes through its subresource). */
  async function applyObjects(extra: readonly string[]): Promise<void> {
    const path = join(scratch, `objects-${extra.length}.yaml`);
    await writeFile(path, objects.map(({ status: _status, ...object }) => stringify(object)).join("---\n"));
    await kubectl(["apply", "--server-side", "--validate=strict", "-n", ns.name, "-f", path, ...extra]);
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "keygate-upgrade-"));
    objects = parseManifests(regroup(readText(`${PREVIOUS_DIR}/objects.yaml`)));
  });

  afterAll(async () => {
    const current = await crdFiles("crds");
    for (const crd of parseManifests(current.map((file) => regroup(readText(file))).join("\n---\n"))) {
      await kubectl(["delete", "crd", crd.metadata.name, "--ignore-not-found", "--wait=false"]);
    }
    await rm(scratch, { recursive: true, force: true });
  });

  it(`stores every kind of ${PREVIOUS_VERSION}, with status, under its own CRDs`, async () => {
    crds = await applyCrds(await crdFiles(PREVIOUS_DIR), "previous");
    expect(new Set(objects.map((object) => object.kind))).toEqual(new Set(crds.map((crd) => (crd.spec as { names: { kind: string } }).names.kind)));
    await applyObjects([]);
    for (const object of objects) {
      await writeStatus(object);
      const stored = await read(object);
      // Nothing of the baseline objects was pruned: they are valid objects of that release.
      expect(stored).toMatchObject({ spec: object.spec, ...(object.status === undefined ? {} : { status: object.status }) });
      before.set(object.metadata.name, stored);
    }
  });

  it("serves them unchanged once the current CRDs are applied over them", async () => {
    crds = await applyCrds(await crdFiles("crds"), "current");
    for (const object of objects) expect(await read(object), object.metadata.name).toEqual(before.get(object.metadata.name));
  });

  it("still accepts them, spec and status, under the current schemas", async () => {
    await applyObjects(["--dry-run=server"]);
    for (const object of objects) await writeStatus(object, "All");
  });
});
