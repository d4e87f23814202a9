import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { type StartedTestContainer, Wait } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, RELEASE_NAME, RELEASE_NAMESPACE } from "../../scripts/render-deploy.js";
import { ensureDockerEngine } from "../../src/controlplane/docker.js";
import { run } from "../../src/controlplane/exec.js";
import { ensureHelm } from "../../src/controlplane/helm.js";
import {
  ensureBaseImage,
  ensureNginxImage,
  ensurePauseImage,
  ensureRedisImage,
  NGINX_IMAGE,
  PAUSE_IMAGE,
  REDIS_CHART_VALUES,
  REDIS_IMAGE,
} from "../../src/controlplane/images.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { bridgeAddress, childrenOf, containerProcesses, hostPid, LocalContainer, terminate } from "../support/containers.js";
import { e2eSkipReason, progressOf } from "../support/e2e.js";
import { type Container, find, onlyContainer, parseManifests, podSpec, REPOSITORY_ROOT } from "../unit/packaging/manifests.js";

// The images a local node runs besides keygate's own: the pod sandbox (pause), the chart's
// bundled Redis, and NGINX for the gateway tests. Each is run as a pod would run it.

const skip = e2eSkipReason("test/e2e/local-images.test.ts");
const progress = progressOf("local images");

async function uidsOf(container: StartedTestContainer): Promise<number[]> {
  return (await containerProcesses(container.getId())).flatMap((process) => [...process.uids, ...process.gids]);
}

describe.skipIf(skip !== undefined)("the local images", () => {
  beforeAll(async () => {
    await ensureDockerEngine(progress);
  });

  describe(PAUSE_IMAGE, () => {
    let pause: StartedTestContainer | undefined;

    beforeAll(async () => {
      await ensurePauseImage(progress);
      pause = await new LocalContainer(PAUSE_IMAGE).withReadOnlyRootFilesystem().withRestrictedPrivileges().start();
    });

    afterAll(async () => {
      await pause?.stop({ timeout: 1000 });
    });

    it("runs as uid and gid 65535", async () => {
      expect(await uidsOf(pause!)).toEqual(Array(8).fill(65535));
    });

    it("reaps a process orphaned in the pod's PID namespace", async () => {
      const base = await ensureBaseImage(progress);
      const pausePid = await hostPid(pause!.getId());
      // The subshell exits at once: its `sleep 2` is orphaned, reparented to PID 1 (pause), and exits 2 s later.
      const sibling = await new LocalContainer(base.ref).withPidNamespaceOf(pause!.getId()).withCommand(["sh", "-c", "(sleep 2 &); exec sleep 30"]).start();
      try {
        expect(await pollChildren(pausePid, (children) => children.length > 0, 5000)).not.toEqual([]);
        expect(await pollChildren(pausePid, (children) => children.length === 0, 10_000)).toEqual([]);
      } finally {
        await sibling.stop({ timeout: 1000 });
      }
    });

    it("exits 0 at once on SIGTERM", async () => {
      const termination = await terminate(pause!.getId(), 10_000);
      expect(termination.exitCode).toBe(0);
      expect(termination.elapsedMs).toBeLessThan(2000);
    });
  });

  describe(`${REDIS_IMAGE} as the chart's bundled Redis runs it`, () => {
    let spec: RedisPod;
    let redis: StartedTestContainer | undefined;

    beforeAll(async () => {
      await ensureRedisImage(progress);
      spec = await chartRedisPod();
      redis = await startAsChart(spec);
    });

    afterAll(async () => {
      await redis?.stop({ timeout: 1000 });
    });

    it("is the image the chart names with REDIS_CHART_VALUES", () => {
      expect(spec.container.image).toBe(REDIS_IMAGE);
      expect(spec.container.command).toBeUndefined();
    });

    it("runs as the chart's uid on a read-only root filesystem", async () => {
      expect(spec.readOnly).toBe(true);
      expect(await uidsOf(redis!)).toEqual(Array(8).fill(65532));
    });

    it("answers the chart's readiness probe", async () => {
      const result = await redis!.exec(spec.readinessCommand);
      expect({ exitCode: result.exitCode, output: result.output.trim() }).toEqual({ exitCode: 0, output: "PONG" });
    });

    it("serves a client connecting from another address, with the chart's settings", async () => {
      const client = new Redis({ host: await bridgeAddress(redis!.getId()), port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        expect(await client.set("keygate-e2e", "1", "EX", 60)).toBe("OK");
        expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
        expect(await client.config("GET", "save")).toEqual(["save", ""]);
      } finally {
        client.disconnect();
      }
    });

    it("exits 0 within seconds of SIGTERM", async () => {
      const termination = await terminate(redis!.getId(), 10_000);
      expect(termination.exitCode).toBe(0);
      expect(termination.elapsedMs).toBeLessThan(5000);
    });
  });

  describe(`${NGINX_IMAGE} with a server block mounted as a ConfigMap would be`, () => {
    let configDir: string;
    let nginx: StartedTestContainer | undefined;

    beforeAll(async () => {
      await ensureNginxImage(progress);
      configDir = await mkdtemp(join(tmpdir(), "keygate-e2e-nginx-"));
      await chmod(configDir, 0o755);
      await writeFile(join(configDir, "site.conf"), 'server {\n    listen 8080;\n    location / { return 200 "served by nginx\\n"; }\n}\n', { mode: 0o644 });
      nginx = await new LocalContainer(NGINX_IMAGE)
        .withReadOnlyRootFilesystem()
        .withRestrictedPrivileges()
        .withTmpFs({ "/tmp": "rw,size=16m" })
        .withBindMounts([{ source: configDir, target: "/etc/nginx/conf.d", mode: "ro" }])
        .withExposedPorts(8080)
        .withWaitStrategy(Wait.forHttp("/", 8080))
        .start();
    });

    afterAll(async () => {
      await nginx?.stop({ timeout: 1000 });
      await rm(configDir, { recursive: true, force: true });
    });

    it("runs as uid and gid 65532, not root", async () => {
      expect(await uidsOf(nginx!)).toEqual(Array(16).fill(65532)); // master and worker
    });

    it("serves the mounted server block from a read-only root filesystem", async () => {
      const response = await fetch(`http://${nginx!.getHost()}:${nginx!.getMappedPort(8080)}/`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("served by nginx\n");
    });

    it("has auth_request, which the gateway configuration of docs/gateways.md needs", async () => {
      const result = await nginx!.exec(["nginx", "-V"]);
      expect(result.output).toContain("--with-http_auth_request_module");
    });

    it("exits 0 within seconds of SIGTERM", async () => {
      const termination = await terminate(nginx!.getId(), 10_000);
      expect(termination.exitCode).toBe(0);
      expect(termination.elapsedMs).toBeLessThan(5000);
    });
  });
});

async function pollChildren(
  pid: number,
  done: (children: { pid: number; state: string }[]) => boolean,
  ms: number,
): Promise<{ pid: number; state: string }[]> {
  const deadline = Date.now() + ms;
  let children = await childrenOf(pid);
  while (!done(children) && Date.now() < deadline) {
    await sleep(100);
    children = await childrenOf(pid);
  }
  return children;
}

interface RedisPod {
  container: Container;
  user: string;
  readOnly: boolean;
  readinessCommand: string[];
  emptyDirs: string[];
}

/** The Redis pod of `helm template` with REDIS_CHART_VALUES: what a node would be asked to run. */
async function chartRedisPod(): Promise<RedisPod> {
  const helm = await ensureHelm({ progress });
  const args = ["template", RELEASE_NAME, join(REPOSITORY_ROOT, CHART_DIR), "--namespace", RELEASE_NAMESPACE, "--kube-version", KUBERNETES_VERSION];
  const { stdout } = await run(helm.path, [...args, ...REDIS_CHART_VALUES.flatMap((value) => ["--set", value])], { timeoutMs: 60_000 });
  const deployment = find(parseManifests(stdout), "Deployment", `${RELEASE_NAME}-redis`);
  const pod = podSpec(deployment);
  const container = onlyContainer(deployment);
  const podContext = pod.securityContext as { runAsUser: number; runAsGroup: number };
  const emptyDirVolumes = new Set((pod.volumes ?? []).filter((volume) => "emptyDir" in volume).map((volume) => volume.name));
  const mounts = (container.volumeMounts ?? []) as { name: string; mountPath: string }[];
  return {
    container,
    user: `${podContext.runAsUser}:${podContext.runAsGroup}`,
    readOnly: container.securityContext?.readOnlyRootFilesystem === true,
    readinessCommand: (container.readinessProbe as { exec: { command: string[] } }).exec.command,
    emptyDirs: mounts.filter((mount) => emptyDirVolumes.has(mount.name)).map((mount) => mount.mountPath),
  };
}

/** The container as the kubelet would start it: the image's entrypoint, the chart's args, uid and mounts. */
function startAsChart(spec: RedisPod): Promise<StartedTestContainer> {
  const container = new LocalContainer(spec.container.image as string)
    .withCommand(spec.container.args ?? [])
    .withUser(spec.user)
    .withRestrictedPrivileges()
    .withTmpFs(Object.fromEntries(spec.emptyDirs.map((path) => [path, "rw,size=16m"])))
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/));
  if (spec.readOnly) container.withReadOnlyRootFilesystem();
  return container.start();
}
