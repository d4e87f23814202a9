import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMap, isPair, isScalar, parseDocument, type Pair, type YAMLMap } from "yaml";
import { readText, REPOSITORY_ROOT } from "./manifests.js";

const TEMPLATES = "charts/keygate/templates";

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

// A pair's comment sits on its key, or on its map when it is the map's first pair.
function commented(map: YAMLMap, pair: Pair, index: number): boolean {
  const own = isScalar(pair.key) ? pair.key.commentBefore : undefined;
  return Boolean(own?.trim()) || (index === 0 && Boolean(map.commentBefore?.trim()));
}

/** Paths of values.yaml with no comment on themselves or any enclosing key. */
function undocumented(map: YAMLMap, prefix: string, documented: boolean): string[] {
  return map.items.flatMap((pair, index) => {
    if (!isPair(pair)) return [];
    const path = prefix === "" ? keyName(pair) : `${prefix}.${keyName(pair)}`;
    const here = documented || commented(map, pair, index);
    if (isMap(pair.value) && pair.value.items.length > 0) return undocumented(pair.value, path, here);
    return here ? [] : [path];
  });
}

/** The paths that carry their own comment: the values a user sets. */
function documentedPaths(map: YAMLMap, prefix: string): string[] {
  return map.items.flatMap((pair, index) => {
    if (!isPair(pair)) return [];
    const path = prefix === "" ? keyName(pair) : `${prefix}.${keyName(pair)}`;
    if (commented(map, pair, index)) return [path];
    return isMap(pair.value) ? documentedPaths(pair.value, path) : [];
  });
}

function values(): YAMLMap {
  const contents = parseDocument(readText("charts/keygate/values.yaml")).contents;
  if (!isMap(contents)) throw new Error("values.yaml is not a map");
  return contents;
}

function templatesText(): string {
  return readdirSync(join(REPOSITORY_ROOT, TEMPLATES))
    .map((name) => readText(join(TEMPLATES, name)))
    .join("\n");
}

function yamlFiles(dir: string): string[] {
  return readdirSync(join(REPOSITORY_ROOT, dir)).filter((name) => name.endsWith(".yaml")).sort();
}

describe("the Helm chart", () => {
  it("documents every value in values.yaml", () => {
    expect(undocumented(values(), "", false)).toEqual([]);
  });

  it("finds an undocumented value", () => {
    const doc = parseDocument("documented:\n  # -- yes\n  a: 1\n  b: 2\nnested:\n  deeper:\n    c: 3\n");
    expect(undocumented(doc.contents as YAMLMap, "", false)).toEqual(["documented.b", "nested.deeper.c"]);
  });

  it("uses every documented value in a template", () => {
    const text = templatesText();
    const paths = documentedPaths(values(), "");
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((path) => !text.includes(`.Values.${path}`))).toEqual([]);
  });

  it("installs the release keygate's package.json describes", () => {
    const chart = parseDocument(readText("charts/keygate/Chart.yaml")).toJS() as { appVersion: string };
    const pkg = JSON.parse(readText("package.json")) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });

  it.each(["charts/keygate/crds", "deploy/base/crds"])("ships in %s exactly the generated CRDs of crds/", (dir) => {
    const stale = `${dir} differs from crds/: run \`npx tsx scripts/render-deploy.ts\``;
    expect(yamlFiles(dir), stale).toEqual(yamlFiles("crds"));
    for (const name of yamlFiles("crds")) expect(readText(join(dir, name)), `${stale} (${name})`).toBe(readText(join("crds", name)));
  });

  it("ships no admission webhook configuration: the operator registers and owns it", () => {
    expect(templatesText()).not.toMatch(/kind:\s*(Validating|Mutating)WebhookConfiguration/);
  });
});

describe("the RBAC templates", () => {
  const files = readdirSync(join(REPOSITORY_ROOT, TEMPLATES)).filter((name) => name.startsWith("rbac-"));

  /** Each rule with the comment lines right above it. */
  function rulesWithComments(text: string): Array<{ verbs: string[]; comment: string; line: number }> {
    const lines = text.split("\n");
    const rules: Array<{ verbs: string[]; comment: string; line: number }> = [];
    lines.forEach((line, index) => {
      if (!/^\s*- apiGroups:/.test(line)) return;
      const comment: string[] = [];
      for (let above = index - 1; above >= 0 && /^\s*#/.test(lines[above] ?? ""); above--) comment.unshift(lines[above] ?? "");
      const verbsLine = lines.slice(index).find((candidate) => /^\s*verbs:/.test(candidate)) ?? "";
      const verbs = [...verbsLine.matchAll(/"([a-z]+)"/g)].map((match) => match[1] ?? "");
      rules.push({ verbs, comment: comment.join("\n"), line: index + 1 });
    });
    return rules;
  }

  it.each(files)("%s says why each verb of each rule is needed", (file) => {
    const rules = rulesWithComments(readText(join(TEMPLATES, file)));
    expect(rules.length).toBeGreaterThan(0);
    const unexplained = rules.flatMap((rule) =>
      rule.verbs.filter((verb) => !new RegExp(`\\b${verb}\\b`).test(rule.comment)).map((verb) => `line ${rule.line}: ${verb}`),
    );
    expect(unexplained).toEqual([]);
  });

  it("notices a verb without its reason", () => {
    const rules = rulesWithComments(['  # - get: reading', '  - apiGroups: [""]', '    verbs: ["get", "delete"]'].join("\n"));
    expect(rules).toEqual([{ verbs: ["get", "delete"], comment: "  # - get: reading", line: 2 }]);
  });
});
