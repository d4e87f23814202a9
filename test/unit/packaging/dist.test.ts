import { execFile } from "node:child_process";
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readText, REPOSITORY_ROOT } from "./manifests.js";

const run = promisify(execFile);

// The image's layout (see the Dockerfile): package.json, which makes dist/ ES modules, beside
// node_modules and dist/, and nothing else: no sources, no tsx.
let app = "";
let modules: string[] = [];

async function buildInto(outDir: string): Promise<void> {
  const tsc = join(REPOSITORY_ROOT, "node_modules/typescript/bin/tsc");
  await run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: REPOSITORY_ROOT }).catch((error: unknown) => {
    const output = (error as { stdout?: string }).stdout ?? "";
    throw new Error(`the production build failed:\n${output}`, { cause: error });
  });
}

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), "keygate-dist-"));
  await cp(join(REPOSITORY_ROOT, "package.json"), join(app, "package.json"));
  await symlink(join(REPOSITORY_ROOT, "node_modules"), join(app, "node_modules"), "dir");
  await mkdir(join(app, "bin"));
  await cp(join(REPOSITORY_ROOT, "bin/keygate.js"), join(app, "bin/keygate.js"));
  await buildInto(join(app, "dist"));
  modules = (await readdir(join(app, "dist"), { recursive: true })).filter((path) => path.endsWith(".js")).sort();
}, 180_000);

afterAll(async () => {
  if (app !== "") await rm(app, { recursive: true, force: true });
});

function readModule(path: string): Promise<string> {
  return readFile(join(app, "dist", path), "utf8");
}

// Compiled ES modules keep their specifiers as written: `from "x"`, `import "x"`, `import("x")`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

async function importedPackages(): Promise<string[]> {
  const packages = new Set<string>();
  for (const path of modules) {
    for (const [, specifier = ""] of (await readModule(path)).matchAll(SPECIFIER)) {
      if (!specifier.startsWith(".") && !isBuiltin(specifier)) packages.add(packageOf(specifier));
    }
  }
  return [...packages].sort();
}

describe("the production build (dist/, what the image runs)", () => {
  it("holds neither the control-plane builder nor the development environment", () => {
    expect(modules).toContain("cli/main.js");
    expect(modules.filter((path) => /^(controlplane|dev)\//.test(path))).toEqual([]);
  });

  it("holds no test signer", async () => {
    const withSigners: string[] = [];
    for (const path of modules) if (/\bsign(SigV4|Acs3|Huawei)\b/.test(await readModule(path))) withSigners.push(path);
    expect(withSigners).toEqual([]);
  });

  it("imports only runtime dependencies, which the image installs without dev dependencies", async () => {
    const dependencies = Object.keys((JSON.parse(readText("package.json")) as { dependencies: Record<string, string> }).dependencies);
    expect((await importedPackages()).filter((name) => !dependencies.includes(name))).toEqual([]);
  });

  it("holds every file package.json exports", async () => {
    const { exports } = JSON.parse(readText("package.json")) as { exports: Record<string, Record<string, string>> };
    const targets = Object.values(exports).flatMap((conditions) => Object.values(conditions));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) await expect(access(join(app, target)), target).resolves.toBeUndefined();
  });

  it("is what bin/keygate.js runs: its help lists the production commands and no development one", async () => {
    expect((JSON.parse(readText("package.json")) as { bin: Record<string, string> }).bin.keygate).toBe("./bin/keygate.js");
    const { stdout } = await run(process.execPath, [join(app, "bin/keygate.js"), "--help"]);
    expect(stdout).toMatch(/^\s+operator\b/m);
    expect(stdout).toMatch(/^\s+verifier\b/m);
    expect(stdout).not.toMatch(/^\s+(dev|control-plane)\b/m);
  });
});
