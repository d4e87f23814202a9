import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/controlplane/ports.js";
import { gatewayConfig, substitute, VERIFIER_PLACEHOLDER } from "./doc.js";
import { type RunningGateway, startGatewayProcess } from "./process.js";

// Debian's nginx package (installed by scripts/ensure-deps.mjs), which has auth_request built in.
// /usr/sbin is not on every user's PATH.
const CANDIDATES = [process.env.KEYGATE_NGINX, "nginx", "/usr/sbin/nginx"].filter((name): name is string => Boolean(name));

/** The nginx binary, or why there is none (the test then says so instead of failing obscurely). */
export function findNginx(): { binary: string } | { missing: string } {
  for (const binary of CANDIDATES) {
    if (spawnSync(binary, ["-v"], { stdio: "ignore" }).status === 0) return { binary };
  }
  return { missing: "nginx is not installed: install Debian's nginx package (apt-get install nginx), or set KEYGATE_NGINX" };
}

export interface GatewayTargets {
  readonly verifierPort: number;
  readonly backendPort: number;
}

/**
 * The nginx.conf around the documented server block, with the doc's placeholders replaced: the
 * verifier's address, and the TLS listener by a plain one on loopback. The `backend` the doc
 * proxies to is defined here as an upstream, as a real deployment would.
 */
export function nginxConfig(dir: string, port: number, targets: GatewayTargets): string {
  let site = substitute(gatewayConfig("nginx"), VERIFIER_PLACEHOLDER, `127.0.0.1:${targets.verifierPort}`);
  site = substitute(site, "listen 443 ssl;", `listen 127.0.0.1:${port};`);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `    ${kind}_temp_path ${join(dir, "temp", kind)};`);
  return [
    // One foreground process: no privilege drop to a user that may not read this folder.
    "daemon off;",
    "master_process off;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} info;`,
    "events {}",
    "http {",
    `    access_log ${join(dir, "access.log")};`,
    ...temp,
    `    upstream backend { server 127.0.0.1:${targets.backendPort}; }`,
    site,
    "}",
    "",
  ].join("\n");
}

/** nginx with the configuration of docs/gateways.md, on a free loopback port. */
export async function startNginx(binary: string, targets: GatewayTargets): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-nginx-"));
  await mkdir(join(dir, "temp"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  await writeFile(conf, nginxConfig(dir, port, targets));
  return startGatewayProcess("nginx", [binary, "-p", dir, "-e", join(dir, "error.log"), "-c", conf], port, join(dir, "nginx.out"));
}
