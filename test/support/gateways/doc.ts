import { readFileSync } from "node:fs";
import type { Gateway } from "../../../src/verifier/forward-auth.js";

// The gateway tests run the configurations people copy from docs/gateways.md, so the two cannot
// drift; only the addresses named there as placeholders are replaced.
const DOC = readFileSync(new URL("../../../docs/gateways.md", import.meta.url), "utf8");

/** The example address of the verifier in every configuration. */
export const VERIFIER_PLACEHOLDER = "keygate-verifier.keygate-system.svc:8080";

/** The fenced block right after a gateway's `<!-- gateway-config: … -->` line. */
export function gatewayConfig(gateway: Gateway): string {
  const marker = DOC.indexOf(`<!-- gateway-config: ${gateway} -->\n`);
  const block = marker < 0 ? null : /^```[a-z]*\n([\s\S]*?)^```$/m.exec(DOC.slice(marker));
  if (!block?.[1]) throw new Error(`docs/gateways.md has no configuration for ${gateway}`);
  return block[1];
}

/** Replaces a placeholder that must be there: a renamed one would otherwise go unnoticed. */
export function substitute(config: string, placeholder: string, value: string): string {
  if (!config.includes(placeholder)) throw new Error(`the configuration lacks the placeholder ${JSON.stringify(placeholder)}`);
  return config.split(placeholder).join(value);
}
