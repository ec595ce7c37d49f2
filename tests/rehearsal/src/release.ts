// A Helm release on this machine: its rendered objects and Secrets, a Service (ServiceProxy) per
// Deployment on the Service's port, and each Deployment's pod run from its image as the manifest
// says. `install` does what `helm install` does; `roll` what a new revision does to the
// Deployments (`helm upgrade` after its pre-upgrade hooks, `helm rollback`).
import { containersOf } from './checks.js';
import { ServiceProxy, rollingUpdate } from './cluster.js';
import { resolveEnv } from './env.js';
import {
  hooksOf,
  serviceNames,
  workloads,
  type K8sObject,
  type SecretStore,
  type Workload,
} from './manifests.js';
import { containerLogs, podman, podmanRunArgs, runToCompletion } from './podman.js';
import { freePort } from './rehearse.js';

export interface Pod {
  name: string;
  deployment: string;
  image: string;
  /** The pod's own http port (PORT); the Service listens on the manifest's containerPort. */
  port: number;
  metricsPort: number;
  startedAt: number;
  readyMs?: number;
}

export interface Revision {
  /** `install`, `upgrade`, `rollback`: names the containers. */
  label: string;
  objects: K8sObject[];
  store: SecretStore;
}

export interface RollStep {
  deployment: string;
  from: string;
  to: string;
  readyMs: number;
  /** SIGTERM to exit of the old pod (its SHUTDOWN_DELAY_MS, then open streams draining). */
  drainMs: number;
  maxSurge: number;
  maxUnavailable: number;
}

const httpPort = (d: Workload): number =>
  d.spec.containers[0]?.ports?.find((p) => p.name === 'http')?.containerPort ?? 0;

export class Release {
  readonly proxies = new Map<string, ServiceProxy>();
  readonly pods = new Map<string, Pod>();
  private readonly containers = new Set<string>();
  revision!: Revision;

  constructor(
    private readonly options: {
      runId: string;
      dir: string;
      /** Per-Deployment env on top of the manifest's (stand-ins and host-network ports). */
      overrides: (d: Workload) => Record<string, string>;
      info: (line: string) => void;
    },
  ) {}

  get workloads(): Workload[] {
    return workloads(this.revision.objects);
  }

  get deployments(): Workload[] {
    return this.workloads.filter((w) => w.kind === 'Deployment');
  }

  /** Runs one container of a workload to completion (a Job's, a test pod's). */
  async run(w: Workload, containerName: string, revision = this.revision) {
    const container = containersOf(w).find((c) => c.name === containerName)!;
    const env = resolveEnv(container, revision.store, `${w.kind} ${w.name}`);
    if (env.problems.length > 0) throw new Error(env.problems.join('\n'));
    const name = `rehearsal-${this.options.runId}-${revision.label}-${w.name}-${container.name}`.slice(
      0,
      120,
    );
    const args = podmanRunArgs({
      name,
      pod: w.spec,
      container,
      env: env.env,
      hosts: serviceNames(revision.objects),
      workDir: this.options.dir,
      store: revision.store,
      detach: false,
    });
    return { ...(await runToCompletion(args)), container: container.name };
  }

  /** A hook phase's Jobs in Helm's order (of `revision`: pre-upgrade hooks are the new one's); each must succeed within its backoffLimit. */
  async hooks(phase: string, revision = this.revision): Promise<string[]> {
    const ran: string[] = [];
    for (const job of hooksOf(workloads(revision.objects), phase)) {
      if (job.kind !== 'Job') continue;
      for (let attempt = 1; ; attempt++) {
        let failed: { code: number; output: string; container: string } | undefined;
        for (const c of [...(job.spec.initContainers ?? []), ...job.spec.containers]) {
          const r = await this.run(job, c.name, revision);
          if (r.code !== 0) {
            failed = r;
            break;
          }
        }
        if (!failed) break;
        if (attempt > job.backoffLimit)
          throw new Error(
            `${phase} hook Job ${job.name}, container ${failed.container} failed (exit ${failed.code}):\n${failed.output.slice(-2000)}`,
          );
      }
      ran.push(`${job.name} (${job.spec.containers[0]?.image})`);
      this.options.info(`${phase} hook weight ${job.hookWeight}: Job ${job.name} succeeded`);
    }
    return ran;
  }

  async startPod(d: Workload): Promise<Pod> {
    const c = d.spec.containers[0]!;
    const port = await freePort();
    const metricsPort = await freePort();
    const resolved = resolveEnv(c, this.revision.store, `Deployment ${d.name}`);
    if (resolved.problems.length > 0) throw new Error(resolved.problems.join('\n'));
    const env = {
      ...resolved.env,
      ...this.options.overrides(d),
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
    };
    const name = `rehearsal-${this.options.runId}-${this.revision.label}-${d.name}`.slice(0, 120);
    const args = podmanRunArgs({
      name,
      pod: d.spec,
      container: c,
      env,
      hosts: serviceNames(this.revision.objects),
      workDir: this.options.dir,
      store: this.revision.store,
      detach: true,
    });
    this.containers.add(name);
    const startedAt = Date.now();
    const r = await runToCompletion(args);
    if (r.code !== 0) throw new Error(`podman could not start ${name}: ${r.output}`);
    return { name, deployment: d.name, image: c.image, port, metricsPort, startedAt };
  }

  /** Polls the startup and readiness probes (on the pod's own port) until both answer 200. */
  async waitReady(pod: Pod, d: Workload): Promise<void> {
    const c = d.spec.containers[0]!;
    for (const probe of [c.startupProbe, c.readinessProbe]) {
      if (!probe?.httpGet) continue;
      const deadline =
        Date.now() + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) * 1000 + 60_000;
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${pod.port}${probe.httpGet.path}`).catch(() => undefined);
        if (res?.status === 200) break;
        if (Date.now() > deadline)
          throw new Error(
            `${pod.name} never answered ${probe.httpGet.path}; its last log lines:\n${await containerLogs(pod.name)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    pod.readyMs = Date.now() - pod.startedAt;
  }

  /** SIGTERM, then SIGKILL after the pod's terminationGracePeriodSeconds (as the kubelet does). */
  async stopPod(pod: Pod, d: Workload): Promise<number> {
    const grace = (d.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
    const started = Date.now();
    await podman(['stop', '-t', String(grace), pod.name], (grace + 30) * 1000);
    await podman(['rm', '-f', pod.name]).catch(() => undefined);
    this.containers.delete(pod.name);
    return Date.now() - started;
  }

  /** `helm install`: pre-install hooks, the Services and Deployments, post-install hooks, ready. */
  async install(revision: Revision): Promise<Pod[]> {
    this.revision = revision;
    await this.hooks('pre-install');
    for (const d of this.deployments) {
      const proxy = new ServiceProxy(d.name, httpPort(d));
      await proxy.listen().catch((error: Error) => {
        throw new Error(
          `port ${proxy.port} (${d.name}'s Service) is in use on this machine: ${error.message}`,
        );
      });
      this.proxies.set(d.name, proxy);
      this.pods.set(d.name, await this.startPod(d));
    }
    // With the bundled PostgreSQL the migrations are post-install: the pods restart until they ran.
    await this.hooks('post-install');
    await Promise.all(
      this.deployments.map(async (d) => {
        const pod = this.pods.get(d.name)!;
        await this.waitReady(pod, d);
        this.proxies.get(d.name)!.setEndpoints([pod.port]);
      }),
    );
    return [...this.pods.values()];
  }

  /**
   * A new revision's Deployments, all at once as the API server takes them, each rolled as its
   * strategy says. With one replica and maxUnavailable 0 (the chart's), the surge pod starts and
   * must be ready before the old one leaves the Service's endpoints and gets SIGTERM.
   */
  async roll(revision: Revision, beforeCutover?: () => Promise<void>): Promise<RollStep[]> {
    const before = this.revision;
    this.revision = revision;
    // Every surge pod ready, then `beforeCutover` (e.g. start a reply on the old pods), then the old
    // pods leave: one of the orders the Deployments' independent rollouts can take.
    let surgeReady = 0;
    let allReady!: () => void;
    const cutover = new Promise<void>((resolve) => (allReady = resolve)).then(() => beforeCutover?.());
    const count = this.deployments.length;
    return Promise.all(
      this.deployments.map(async (d) => {
        const old = this.pods.get(d.name);
        const obj = revision.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === d.name)!;
        const { maxSurge, maxUnavailable } = rollingUpdate(obj);
        if (maxSurge < 1 && maxUnavailable < 1)
          throw new Error(`${d.name}: a rolling update with neither surge nor unavailability cannot proceed`);
        const proxy = this.proxies.get(d.name)!;
        const oldWorkload = workloads(before.objects).find((w) => w.name === d.name)!;
        let drainMs = 0;
        // maxSurge 0: the old pod goes first (the Service has no endpoint until the new one is ready).
        if (old && maxSurge < 1) {
          proxy.setEndpoints([]);
          drainMs = await this.stopPod(old, oldWorkload);
        }
        const pod = await this.startPod(d);
        await this.waitReady(pod, d);
        if (++surgeReady === count) allReady();
        await cutover;
        proxy.setEndpoints([...(old && maxSurge >= 1 ? [old.port] : []), pod.port]);
        if (old && maxSurge >= 1) {
          proxy.setEndpoints([pod.port]);
          drainMs = await this.stopPod(old, oldWorkload);
        }
        this.pods.set(d.name, pod);
        return {
          deployment: d.name,
          from: old?.image ?? '',
          to: pod.image,
          readyMs: pod.readyMs ?? 0,
          drainMs,
          maxSurge,
          maxUnavailable,
        };
      }),
    );
  }

  async close(): Promise<void> {
    for (const name of this.containers) await podman(['rm', '-f', '-t', '5', name]).catch(() => undefined);
    for (const proxy of this.proxies.values()) await proxy.close();
  }
}
