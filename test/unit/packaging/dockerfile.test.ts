import { describe, expect, it } from "vitest";
import { dockerEntrypoint, find, baseObjects, podSpec, readText } from "./manifests.js";

const dockerfile = readText("Dockerfile");

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** The build stages, in order, with their instructions (continuation lines joined). */
function stages(text: string): Stage[] {
  const instructions = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const result: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) result.push({ from: from[1] ?? "", name: from[2], lines: [] });
    else result.at(-1)?.lines.push(line);
  }
  return result;
}

const all = stages(dockerfile);
const final = all.at(-1) ?? { from: "", lines: [] };

function stageRunning(command: RegExp): Stage | undefined {
  return all.find((stage) => stage.lines.some((line) => line.startsWith("RUN ") && command.test(line)));
}

describe("the Dockerfile", () => {
  it("builds in stages on a Node 20+ base", () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const base = /^ARG NODE_IMAGE=node:(\d+)/m.exec(dockerfile);
    expect(Number(base?.[1])).toBeGreaterThanOrEqual(20);
    expect(all.every((stage) => stage.from === "${NODE_IMAGE}")).toBe(true);
  });

  it("compiles with npm ci and the build tsconfig", () => {
    const build = stageRunning(/tsc -p tsconfig\.build\.json/);
    expect(build?.lines.some((line) => /^RUN npm ci\b/.test(line))).toBe(true);
    expect(final.lines).toContain(`COPY --from=${build?.name} /src/dist ./dist`);
  });

  it("ships runtime dependencies only, installed without dev dependencies or scripts", () => {
    const deps = stageRunning(/npm ci .*--omit=dev/);
    expect(deps?.lines.join("\n")).toMatch(/--ignore-scripts/);
    const copies = final.lines.filter((line) => line.startsWith("COPY") && line.includes("node_modules"));
    expect(copies).toEqual([`COPY --from=${deps?.name} /app/node_modules ./node_modules`]);
  });

  it("runs as the numeric non-root user the chart runs it as", () => {
    const user = final.lines.filter((line) => line.startsWith("USER ")).at(-1);
    const uid = Number(/^USER (\d+)/.exec(user ?? "")?.[1]);
    expect(uid).toBeGreaterThan(0);
    expect(podSpec(find(baseObjects(), "Deployment", "keygate-operator")).securityContext?.runAsUser).toBe(uid);
  });

  it("runs the compiled CLI under tini, which forwards signals and reaps children", () => {
    const entrypoint = dockerEntrypoint(dockerfile);
    expect(entrypoint.slice(0, 2)).toEqual(["/usr/bin/tini", "--"]);
    expect(entrypoint.slice(2)).toEqual(["node", "/app/dist/cli/main.js"]);
    // tsconfig.build.json compiles src/ into dist/, so dist/cli/main.js is src/cli/main.ts (dist.test.ts runs it).
    expect(readText("tsconfig.build.json")).toMatch(/"rootDir":\s*"src"[^}]*"outDir":\s*"dist"/);
    expect(readText("tsconfig.build.json")).toContain('"src/cli/main.ts"');
  });

  it("sends only what the production build needs to the builder", () => {
    const ignore = readText(".dockerignore").split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    expect(ignore[0]).toBe("**");
    expect(ignore.slice(1).sort()).toEqual([
      "!package-lock.json",
      "!package.json",
      "!src/**",
      "!tsconfig.build.json",
      "!tsconfig.json",
      "src/controlplane/**",
      "src/dev/**",
    ]);
  });
});
