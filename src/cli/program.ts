import cluster from "node:cluster";
import { Command } from "commander";
import { createLogger } from "../log.js";
import { serveAsWorker } from "../verifier/workers.js";
import {
  OPERATOR_DEFAULTS,
  REPLAY_STORE_PASSWORD_ENV,
  type OperatorCommandOptions,
  runOperatorFromOptions,
  runVerifierFromOptions,
  startVerifierPodFromOptions,
  type VerifierCommandOptions,
  workerCount,
} from "./operator-command.js";

export function progress(message: string): void {
  process.stderr.write(`keygate: ${message}\n`);
}

/** Stops `stop` on the first SIGINT or SIGTERM, then exits. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    progress(`${signal} received; tearing down`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        progress(`teardown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

// The operator serves the verification API as well; `keygate verifier` scales that part alone.
async function runOperator(options: OperatorCommandOptions & VerifierCommandOptions): Promise<void> {
  const operator = await runOperatorFromOptions(options);
  const verifier = await runVerifierFromOptions(options);
  stopOnSignal(async () => {
    // The webhook drains through the verifier's shutdown delay, while the Pod leaves the endpoints.
    operator.drain();
    await verifier.stop();
    await operator.stop();
  });
}

// With --workers N > 1 this process is the primary, and each worker runs this program again.
async function runVerifier(options: VerifierCommandOptions): Promise<void> {
  if (cluster.isWorker) return serveAsWorker((link) => runVerifierFromOptions(options, link), createLogger());
  const workers = workerCount(options);
  if (workers > 1) {
    // Workers that cannot start (a port in use, a bad flag) end the Pod, as one process would.
    const pod = startVerifierPodFromOptions(options, workers, (message) => {
      progress(message);
      const exit = (): never => process.exit(1);
      pod.stop().then(exit, exit);
    });
    return stopOnSignal(() => pod.stop());
  }
  const verifier = await runVerifierFromOptions(options);
  stopOnSignal(() => verifier.stop());
}

function verifierOptions(command: Command): Command {
  return command
    .option("--verifier-host <host>", "address the verification API listens on", OPERATOR_DEFAULTS.verifierHost)
    .option("--verifier-port <port>", "port of the verification API, /healthz, /readyz and /metrics", OPERATOR_DEFAULTS.verifierPort)
    .option("--trusted-proxies <cidrs>", "comma-separated proxies whose X-Forwarded-For is believed", OPERATOR_DEFAULTS.trustedProxies)
    .option("--trusted-callers <cidrs>", "comma-separated callers whose sourceIp in /v1/verify is believed", OPERATOR_DEFAULTS.trustedCallers)
    .option("--last-used-interval <duration>", "how often a key's last use is written to its status", OPERATOR_DEFAULTS.lastUsedInterval)
    .option("--unsigned-payload-services <services>", "comma-separated SigV4 services whose requests may sign UNSIGNED-PAYLOAD (* for any, Huawei's too; empty for none)", OPERATOR_DEFAULTS.unsignedPayloadServices)
    .option("--max-body-bytes <bytes>", "largest request body read or described (larger: 413)", OPERATOR_DEFAULTS.maxBodyBytes)
    .option("--max-header-bytes <bytes>", "largest request line and headers together (larger: 431)", OPERATOR_DEFAULTS.maxHeaderBytes)
    .option("--max-header-count <count>", "most header lines in one request (more: 431)", OPERATOR_DEFAULTS.maxHeaderCount)
    .option("--max-connections <count>", "most open connections (one more is answered 503 and closed)", OPERATOR_DEFAULTS.maxConnections)
    .option("--header-timeout <duration>", "time to receive a request's headers (then 408)", OPERATOR_DEFAULTS.headerTimeout)
    .option("--request-timeout <duration>", "time to receive a whole request, body included (then 408)", OPERATOR_DEFAULTS.requestTimeout)
    .option("--owner-lookup-scope <cluster|namespace>", "who may look up a key's owner (GET /v1/access-keys/<id>/owner): any caller with a live key, or only one of the key's namespace (others get NoSuchEntity, as for an unknown id)", OPERATOR_DEFAULTS.ownerLookupScope)
    .option("--webauthn-rp-id <host>", "relying party id security keys are registered for: the host (or a parent domain) of the pages ceremonies run on", OPERATOR_DEFAULTS.webauthnRpId)
    .option("--webauthn-rp-name <name>", "name an authenticator may show for keygate", OPERATOR_DEFAULTS.webauthnRpName)
    .option("--webauthn-origins <origins>", "comma-separated origins ceremonies are accepted from (scheme://host:port; :* for any port)", OPERATOR_DEFAULTS.webauthnOrigins)
    .option("--shutdown-delay <duration>", "on SIGTERM, how long to keep answering while /readyz says 503, so a rolling update fails no request (0s: none)", OPERATOR_DEFAULTS.shutdownDelay)
    .option("--replay-store <memory|redis://…|rediss://…>", `where used ACS3 nonces are remembered: memory (one replica only) or a Redis every replica shares; its password from ${REPLAY_STORE_PASSWORD_ENV} or --replay-store-password-file, never the URL`, OPERATOR_DEFAULTS.replayStore)
    .option("--replay-store-password-file <path>", "file holding the Redis password (e.g. a mounted Secret)")
    .option("--replay-store-ca-file <path>", "PEM CA bundle for a rediss:// server not signed by the system CAs")
    .option("--replay-store-key-prefix <prefix>", "prefix of every Redis key, so that installations can share one Redis", OPERATOR_DEFAULTS.replayStoreKeyPrefix)
    .option("--nonce-capacity <count>", "memory store: live nonces in all", OPERATOR_DEFAULTS.nonceCapacity)
    .option("--nonce-quota-per-namespace <count>", "live nonces of one namespace (with Redis: claims per 15 minutes), so one tenant cannot refuse the others", OPERATOR_DEFAULTS.nonceQuotaPerNamespace)
    .option("--nonce-quota-per-key <count>", "live nonces of one access key (with Redis: claims per 15 minutes)", OPERATOR_DEFAULTS.nonceQuotaPerKey);
}

/** The production program: `keygate operator` and `keygate verifier`. */
export function buildProgram(): Command {
  const program = new Command("keygate").description(
    "Cloud-style access keys, MFA devices and temporary credentials for Kubernetes",
  );
  verifierOptions(program.command("operator"))
    .description("run the operator: controllers, admission webhook and the verification API")
    .option("--kubeconfig <path>", "kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
    .option("--namespace <ns>", "the operator's namespace (KEK, keystore, lease)", OPERATOR_DEFAULTS.namespace)
    .option("--identity <name>", "this replica's name for leader election", OPERATOR_DEFAULTS.identity)
    .option("--webhook-host <host>", "address the webhook listens on", OPERATOR_DEFAULTS.webhookHost)
    .option("--webhook-port <port>", "port the webhook listens on", OPERATOR_DEFAULTS.webhookPort)
    .option("--webhook-service <name>", "Service in front of the webhook (in-cluster)")
    .option("--webhook-service-port <port>", "that Service's port", OPERATOR_DEFAULTS.webhookServicePort)
    .option("--webhook-public-host <host>", "host the API server dials when there is no Service (local runs)")
    .option("--webhook-cert-dir <dir>", "serve the webhook with tls.crt, tls.key and ca.crt from this directory (e.g. a mounted cert-manager Secret), re-read every minute, instead of a self-managed certificate")
    .option("--recycle-retention <duration>", "how long deleted keys stay restorable", OPERATOR_DEFAULTS.recycleRetention)
    .option("--max-session-duration <duration>", "ceiling on TemporaryCredential durationSeconds (at most 36h)", OPERATOR_DEFAULTS.maxSessionDuration)
    .option("--session-retention <duration>", "how long an expired TemporaryCredential stays before deletion", OPERATOR_DEFAULTS.sessionRetention)
    .option(
      "--strip-username-prefixes <list>",
      "comma-separated prefixes removed from usernames before they are read as keygate users, e.g. oidc: (the API server's --oidc-username-prefix)",
      OPERATOR_DEFAULTS.stripUsernamePrefixes,
    )
    .option("--metrics-host <host>", "address the operator's /metrics (controller-runtime's names) listens on", OPERATOR_DEFAULTS.metricsHost)
    .option("--metrics-port <port>", "port of the operator's /metrics", OPERATOR_DEFAULTS.metricsPort)
    .option("--no-leader-election", "reconcile without electing a leader (a single replica)")
    .action(runOperator);
  verifierOptions(program.command("verifier"))
    .description("run only the verification API (scale it out apart from the operator)")
    .option("--kubeconfig <path>", "kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
    .option("--namespace <ns>", "the operator's namespace, where the keystore lives", OPERATOR_DEFAULTS.namespace)
    .option("--workers <count>", "processes serving the API on one port, each with its own key index (default: the container's CPU limit, from cgroup cpu.max, or the CPUs available); with more than one, a primary holds the in-memory replay store and writes last uses")
    .action(runVerifier);
  return program;
}

/** Runs a program on this process's arguments; a failure is one line on stderr and exit code 1. */
export async function runProgram(program: Command): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    progress(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
