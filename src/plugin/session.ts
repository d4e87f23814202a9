import * as k8s from "@kubernetes/client-node";
import type { Command } from "commander";
import { DEFAULT_USER_MAPPING, type UserMapping } from "../runtime/user-mapping.js";
import { PluginError } from "./exit.js";

/** The options every command takes, as kubectl's: on the program, so they go before or after the command. */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  stripUsernamePrefixes?: string;
}

export const STRIP_USERNAME_PREFIXES_ENV = "KEYGATE_STRIP_USERNAME_PREFIXES";

/** What a command talks to: the API server as the kubeconfig's user, in one namespace. */
export interface Session {
  readonly kc: k8s.KubeConfig;
  readonly namespace: string;
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  readonly mapping: UserMapping;
}

function selectContext(kc: k8s.KubeConfig, context: string | undefined): void {
  if (context === undefined) return;
  if (!kc.getContextObject(context)) throw new PluginError(`context "${context}" does not exist in the kubeconfig`);
  kc.setCurrentContext(context);
}

/** As kubectl: -n, else the context's namespace, else "default". */
export function namespaceOf(kc: k8s.KubeConfig, flag: string | undefined): string {
  if (flag !== undefined && flag !== "") return flag;
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}

/** The flag's comma-separated prefixes, else the environment's; none by default, as the operator's. */
export function userMappingOf(flag: string | undefined, env: string | undefined): UserMapping {
  const list = flag ?? env;
  if (list === undefined) return DEFAULT_USER_MAPPING;
  return { stripPrefixes: list.split(",").map((prefix) => prefix.trim()).filter((prefix) => prefix !== "") };
}

// As kubectl loads it: the file named, else KUBECONFIG, else ~/.kube/config (in a Pod, its
// ServiceAccount). The library's own agents: a command makes a few calls and ends, and kept-alive
// connections would hold the process open after it is done.
function loadKubeConfig(path: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (error) {
    throw new PluginError(`cannot load the kubeconfig${path === undefined ? "" : ` ${path}`}: ${(error as Error).message}`);
  }
  return kc;
}

export function openSession(options: GlobalOptions): Session {
  const kc = loadKubeConfig(options.kubeconfig);
  selectContext(kc, options.context);
  if (!kc.getCurrentCluster()) throw new PluginError("the kubeconfig names no cluster: pass --kubeconfig or --context");
  return {
    kc,
    namespace: namespaceOf(kc, options.namespace),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    core: kc.makeApiClient(k8s.CoreV1Api),
    mapping: userMappingOf(options.stripUsernamePrefixes, process.env[STRIP_USERNAME_PREFIXES_ENV]),
  };
}

/** The session for a command's action, from the program's options. */
export function sessionOf(command: Command): Session {
  return openSession(command.optsWithGlobals<GlobalOptions>());
}
