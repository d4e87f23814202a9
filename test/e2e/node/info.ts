import type { DevNodeInfo } from "../../../src/dev/dev-node.js";
import type { HostSnapshot } from "./host.js";

/** The release as docs/install.md installs it. */
export const RELEASE = "keygate";
export const RELEASE_NAMESPACE = "keygate-system";

export interface NodeTestInfo {
  /** Why the node tests cannot run here; undefined when they run (then everything below is set). */
  readonly skip: string | undefined;
  /** The host before the node started: what its cleanup must return it to. */
  readonly hostBefore: HostSnapshot;
  readonly dev: DevNodeInfo;
  /** The `keygate dev --node` process, which the lifecycle test kills. */
  readonly devPid: number;
  readonly stateDir: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly release: string;
  readonly namespace: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    node: NodeTestInfo;
  }
}

/**
 * `keygate dev` from the sources in one process (tsx's loader, not its CLI, which would run the
 * program in a child): the pid the tests signal is the program's own.
 */
export const DEV_CLI = ["--import", "tsx", "src/dev/cli.ts"] as const;
