import { Command } from "commander";
import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";
import { CONTROL_PLANE_BINARIES, ETCD_VERSION, KUBERNETES_VERSION } from "../controlplane/versions.js";
import { howTo, startDev } from "../dev/dev.js";

function progress(message: string): void {
  process.stderr.write(`keygate: ${message}\n`);
}

async function runDev(options: { stateDir: string }): Promise<void> {
  const env = await startDev({ stateDir: options.stateDir, progress });
  console.log(howTo(env));
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    progress(`${signal} received; tearing down`);
    env.stop().then(
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
