import { accessSync, constants, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = resolve(import.meta.dirname, "../../..");

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { version: string; homepage: string; shortDescription: string; platforms: { uri: string; sha256: string; bin: string; selector: object }[] };
}

describe("the krew plugin manifest", () => {
  const manifest = parse(readFileSync(join(ROOT, "plugins/keygate.yaml"), "utf8")) as KrewPlugin;
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; bin: Record<string, string> };

  it("is a krew Plugin named keygate, so kubectl runs it as kubectl keygate", () => {
    expect(manifest).toMatchObject({ apiVersion: "krew.googlecontainers.k8s.io/v1alpha2", kind: "Plugin", metadata: { name: "keygate" } });
    expect(manifest.spec.shortDescription.length).toBeLessThanOrEqual(50);
  });

  it("names the package's version and the executable package.json installs", () => {
    expect(manifest.spec.version).toBe(`v${pkg.version}`);
    for (const platform of manifest.spec.platforms) {
      expect(platform.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(platform.bin).toBe(pkg.bin["kubectl-keygate"]?.replace(/^\.\//, ""));
    }
    expect(() => accessSync(join(ROOT, "bin/kubectl-keygate"), constants.X_OK)).not.toThrow();
  });
});
