import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCaddy } from "../../../src/controlplane/caddy.js";
import { freePort } from "../../../src/controlplane/ports.js";
import { gatewayConfig, substitute, VERIFIER_PLACEHOLDER } from "./doc.js";
import type { GatewayTargets } from "./nginx.js";
import { type RunningGateway, startGatewayProcess } from "./process.js";

const SITE_PLACEHOLDER = "api.example.test {";
const BACKEND_PLACEHOLDER = "backend:8080";

/**
 * The Caddyfile of docs/gateways.md behind global options that keep Caddy to this test: no admin
 * endpoint, no certificates, state in its own folder, on loopback. The site address becomes plain
 * HTTP on a free port; the verifier's and the service's addresses become the test's.
 */
export function caddyfile(dir: string, port: number, targets: GatewayTargets): string {
  let site = substitute(gatewayConfig("caddy"), VERIFIER_PLACEHOLDER, `127.0.0.1:${targets.verifierPort}`);
  site = substitute(site, BACKEND_PLACEHOLDER, `127.0.0.1:${targets.backendPort}`);
  site = substitute(site, SITE_PLACEHOLDER, `http://api.example.test:${port} {`);
  const global = ["{", "\tadmin off", "\tpersist_config off", "\tauto_https off", "\tdefault_bind 127.0.0.1", `\tstorage file_system ${join(dir, "data")}`, "}"];
  return [...global, "", site].join("\n");
}

/** Caddy (built and cached on first use) with the configuration of docs/gateways.md, on a free loopback port. */
export async function startCaddy(targets: GatewayTargets): Promise<RunningGateway> {
  const caddy = await ensureCaddy({ progress: (message) => console.error(`[caddy] ${message}`) });
  const dir = await mkdtemp(join(tmpdir(), "keygate-caddy-"));
  const port = await freePort();
  const config = join(dir, "Caddyfile");
  await writeFile(config, caddyfile(dir, port, targets));
  return startGatewayProcess("caddy", [caddy.path, "run", "--adapter", "caddyfile", "--config", config], port, join(dir, "caddy.log"));
}
