import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// Planted imports, linted as if they were files of src/: the layer rules must refuse each one
// that points up or across, and accept the ones that point down.
const eslint = new ESLint({
  cwd: process.cwd(),
  ruleFilter: ({ ruleId }) => ruleId === "no-restricted-imports",
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((message) => message.ruleId === "no-restricted-imports").map((message) => message.message);
}

describe("layers: imports point down only", () => {
  it.each([
    ["the verifier importing a controller", "src/verifier/planted.ts", 'import { decide } from "../kinds/accesskey/decide.js";'],
    ["the verifier importing the operator", "src/verifier/planted.ts", 'import { startOperator } from "../operator/operator.js";'],
    ["a kind importing another kind", "src/kinds/accesskey/planted.ts", 'import { livingDevices } from "../mfadevice/decide.js";'],
    ["a kind importing the registry", "src/kinds/mfadevice/planted.ts", 'import { kinds } from "../registry.js";'],
    ["a kind importing the webhook", "src/kinds/accesskey/planted.ts", 'import { WebhookServer } from "../../webhook/server.js";'],
    ["the webhook importing a kind", "src/webhook/planted.ts", 'import { admitAccessKey } from "../kinds/accesskey/admission.js";'],
    ["runtime importing the keystore", "src/runtime/planted.ts", 'import type { KekSet } from "../keystore/kek.js";'],
    ["the API schemas importing runtime", "src/api/planted.ts", 'import { setCondition } from "../runtime/conditions.js";'],
    ["the shipped CLI importing the control-plane builder", "src/cli/planted.ts", 'import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";'],
  ])("refuses %s", async (_what, filePath, source) => {
    const messages = await restricted(filePath, source);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/imports point down only|a kind does not import/);
  });

  it.each([
    ["a kind importing runtime, keystore and api", "src/kinds/accesskey/planted.ts", 'import "../../runtime/reconcile.js";\nimport "../../keystore/record.js";\nimport "../../api/accesskey.js";\nimport "../kind.js";'],
    ["the verifier importing signing, keystore and otp", "src/verifier/planted.ts", 'import "../signing/verify.js";\nimport "../keystore/kek.js";\nimport "../otp/checker.js";'],
    ["the operator importing the registry and the webhook", "src/operator/planted.ts", 'import "../kinds/registry.js";\nimport "../webhook/server.js";'],
  ])("accepts %s", async (_what, filePath, source) => {
    expect(await restricted(filePath, source)).toEqual([]);
  });
});
