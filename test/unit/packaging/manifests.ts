// Reading the packaging (Dockerfile, deploy/base, chart) for the packaging tests, unit and
// integration alike.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const REPOSITORY_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function readText(path: string): string {
  return readFileSync(join(REPOSITORY_ROOT, path), "utf8");
}

/** Every document of a multi-document YAML text, empty ones left out. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null && typeof doc === "object");
}

/** The resource files deploy/base/kustomization.yaml lists. */
export function baseResources(): string[] {
  const [kustomization] = parseManifests(readText("deploy/base/kustomization.yaml"));
  return (kustomization?.resources as string[] | undefined) ?? [];
}

/** Every object of the kustomize base, as its files hold them (no kustomize transformation). */
export function baseObjects(): Manifest[] {
  return baseResources().flatMap((file) => parseManifests(readText(join("deploy/base", file))));
}

export function find(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

export interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name: string; containerPort: number }>;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  [field: string]: unknown;
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: Array<Record<string, unknown>>;
  serviceAccountName?: string;
  [field: string]: unknown;
}

export function podSpec(deployment: Manifest): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

export function podLabels(deployment: Manifest): Record<string, string> {
  return (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
}

export function onlyContainer(deployment: Manifest): Container {
  const [container, ...others] = podSpec(deployment).containers;
  if (!container || others.length > 0) throw new Error(`${deployment.metadata.name} must have exactly one container`);
  return container;
}

/** The value of `--flag=value` in args, or undefined. */
export function flag(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

const ALLOWED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

// Where a setting may sit on the container or, as a default, on the pod.
function effective(pod: PodSpec, container: Container, field: string): unknown {
  return container.securityContext?.[field] ?? pod.securityContext?.[field];
}

function containerViolations(pod: PodSpec, container: Container): string[] {
  const ctx = container.securityContext ?? {};
  const capabilities = (ctx.capabilities ?? {}) as { drop?: string[]; add?: string[] };
  const seccomp = (effective(pod, container, "seccompProfile") as { type?: string } | undefined)?.type;
  const problems: Array<[boolean, string]> = [
    [ctx.allowPrivilegeEscalation !== false, "allowPrivilegeEscalation must be false"],
    [ctx.privileged === true, "privileged"],
    [effective(pod, container, "runAsNonRoot") !== true, "runAsNonRoot must be true"],
    [effective(pod, container, "runAsUser") === 0, "runAsUser 0"],
    [!capabilities.drop?.includes("ALL"), "capabilities must drop ALL"],
    [(capabilities.add ?? []).some((cap) => cap !== "NET_BIND_SERVICE"), "capabilities added"],
    [seccomp !== "RuntimeDefault" && seccomp !== "Localhost", "seccompProfile must be RuntimeDefault or Localhost"],
    [(container.ports ?? []).some((port) => "hostPort" in port), "hostPort"],
  ];
  return problems.filter(([violated]) => violated).map(([, what]) => `${container.name}: ${what}`);
}

/** What a pod spec breaks of the Kubernetes "restricted" Pod Security Standard (empty: none). */
export function restrictedViolations(pod: PodSpec): string[] {
  const podLevel: Array<[boolean, string]> = [
    [pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true, "host namespaces"],
    [(pod.volumes ?? []).some((volume) => !Object.keys(volume).some((key) => ALLOWED_VOLUMES.includes(key))), "volume type"],
  ];
  const containers = [...pod.containers, ...(pod.initContainers ?? [])];
  return [
    ...podLevel.filter(([violated]) => violated).map(([, what]) => what),
    ...containers.flatMap((container) => containerViolations(pod, container)),
  ];
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** One line per (group, resource, verb[, name]) a role grants, sorted: easy to compare with a table. */
export function grants(role: Manifest): string[] {
  const lines = ((role.rules ?? []) as PolicyRule[]).flatMap((rule) =>
    (rule.apiGroups ?? [""]).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        rule.verbs.flatMap((verb) =>
          rule.resourceNames ? rule.resourceNames.map((name) => `${group}/${resource} ${verb} ${name}`) : [`${group}/${resource} ${verb}`],
        ),
      ),
    ),
  );
  return lines.map((line) => (line.startsWith("/") ? `core${line}` : line)).sort();
}

/** The final stage's ENTRYPOINT of the Dockerfile, as an exec-form array. */
export function dockerEntrypoint(dockerfile: string): string[] {
  const lines = dockerfile.split("\n").filter((line) => line.startsWith("ENTRYPOINT "));
  const last = lines.at(-1);
  if (!last) throw new Error("the Dockerfile has no ENTRYPOINT");
  return JSON.parse(last.slice("ENTRYPOINT ".length)) as string[];
}
