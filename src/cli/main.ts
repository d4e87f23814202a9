import { Command } from "commander";
import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";
import { CONTROL_PLANE_BINARIES, ETCD_VERSION, KUBERNETES_VERSION } from "../controlplane/versions.js";
import { howTo, startDev } from "../dev/dev.js";
import { OPERATOR_DEFAULTS, type OperatorCommandOptions, runOperatorFromOptions } from "./operator-command.js";

function progress(message: string): void {
  process.stderr.write(`keygate: ${message}\n`);
}

/** Stops `stop` on the first SIGINT or SIGTERM, then exits. */
function stopOnSignal(stop: () => Promise<void>): void {
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

async function runDev(options: { stateDir: string }): Promise<void> {
  const env = await startDev({ stateDir: options.stateDir, progress });
  console.log(howTo(env));
  stopOnSignal(() => env.stop());
}

async function runOperator(options: OperatorCommandOptions): Promise<void> {
  const operator = await runOperatorFromOptions(options);
  stopOnSignal(() => operator.stop());
}

async function runControlPlane(): Promise<void> {
  const binaries = await ensureControlPlaneBinaries({ progress });
  progress(`Kubernetes v${KUBERNETES_VERSION}, etcd v${ETCD_VERSION} (${binaries.source})`);
  for (const binary of CONTROL_PLANE_BINARIES) console.log(binaries.path(binary));
}

export function buildProgram(): Command {
  const program = new Command("keygate").description(
    "Cloud-style access keys, MFA devices and temporary credentials for Kubernetes",
  );
  program
    .command("dev")
    .description("run a local control plane with keygate's CRDs installed, until interrupted")
    .option("--state-dir <dir>", "where the control plane keeps its state", ".keygate/dev")
    .action(runDev);
  program
    .command("operator")
    .description("run the operator: controllers, admission webhook (and, later, the verifier)")
    .option("--kubeconfig <path>", "kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
    .option("--namespace <ns>", "the operator's namespace (KEK, keystore, lease)", OPERATOR_DEFAULTS.namespace)
    .option("--identity <name>", "this replica's name for leader election", OPERATOR_DEFAULTS.identity)
    .option("--webhook-host <host>", "address the webhook listens on", OPERATOR_DEFAULTS.webhookHost)
    .option("--webhook-port <port>", "port the webhook listens on", OPERATOR_DEFAULTS.webhookPort)
    .option("--webhook-service <name>", "Service in front of the webhook (in-cluster)")
    .option("--webhook-service-port <port>", "that Service's port", OPERATOR_DEFAULTS.webhookServicePort)
    .option("--webhook-public-host <host>", "host the API server dials when there is no Service (local runs)")
    .option("--recycle-retention <duration>", "how long deleted keys stay restorable", OPERATOR_DEFAULTS.recycleRetention)
    .option("--no-leader-election", "reconcile without electing a leader (a single replica)")
    .action(runOperator);
  program
    .command("control-plane")
    .description("provide etcd, kube-apiserver, kube-controller-manager and kubectl (built on first use) and print their paths")
    .action(runControlPlane);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  progress(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
