// The rehearsal: render, check, run the hook Jobs and the Deployments from the real images as the
// manifests say, put the Ingress-derived front before them, and walk the journey through it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startOllamaSim } from '@corral/ollama-sim';
import {
  checkAdminPullRoute,
  checkCommands,
  checkDefaultModel,
  checkReadOnlyRoot,
  checkSecretKeys,
  containersOf,
  ingressRoutes,
  pulledModels,
  readOnlyWrites,
  type Defect,
} from './checks.js';
import { resolveEnv } from './env.js';
import { frontFromIngress, generateCertificate, startNginx } from './front.js';
import { runBrowserJourney, type BrowserResult } from './browser.js';
import { runJourney, type JourneyStep } from './journey.js';
import {
  hooksOf,
  renderChart,
  secretStore,
  serviceNames,
  workloads,
  type K8sObject,
  type Workload,
} from './manifests.js';
import {
  PODMAN_FLAGS,
  PodmanInspector,
  containerLogs,
  podman,
  podmanRunArgs,
  runToCompletion,
} from './podman.js';
import {
  ADMIN_SECRET,
  REHEARSAL_VALUES,
  existingSecrets,
  imageOf,
  isCorralImage,
  mergeStores,
  runValues,
} from './setup.js';

export interface Reporter {
  info(line: string): void;
  step(step: JourneyStep): void;
}

export class RehearsalFailed extends Error {
  constructor(readonly defects: Defect[]) {
    super(
      `the rehearsal found ${defects.length} defect(s):\n${defects.map((d) => `  - [${d.id}] ${d.message}`).join('\n')}`,
    );
  }
}

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Runs one command in a built image, offline, and answers its output (reading what the image ships). */
function runInImage(component: string, entrypoint: string, args: string[]): Promise<string> {
  return podman([
    'run',
    '--rm',
    ...PODMAN_FLAGS,
    '--network',
    'none',
    '--pull',
    'never',
    '--entrypoint',
    entrypoint,
    imageOf(component),
    ...args,
  ]);
}

/** The path the shipped web bundle posts "Pull a model" to (read from the web image itself). */
export async function webPullPath(): Promise<string> {
  const out = await runInImage('web', '/bin/sh', [
    '-c',
    // The shipped JavaScript only (not source maps or comments), a string literal that is a path.
    `grep -rhoE --include=*.js "[\\"'\\\`]/[^\\"'\\\`]*models/pull[\\"'\\\`]" dist/client | head -n 1`,
  ]);
  const path = out.trim().slice(1, -1);
  if (!path.startsWith('/'))
    throw new Error(`could not find the model-pull path in the web image's bundle (got "${out.trim()}")`);
  return path;
}

/** chat-api's built-in DEFAULT_MODEL (what it uses when the chart sets none), from its image. */
export async function serviceDefaultModel(): Promise<string> {
  const out = await runInImage('chat-api', 'node', [
    '--input-type=module',
    '-e',
    "const m = await import('/app/dist/config.js'); console.log(m.chatEnvShape.DEFAULT_MODEL.parse(undefined))",
  ]);
  return out.trim();
}

/** The checks that need no running pod. */
export async function staticDefects(
  objects: K8sObject[],
  options: { serviceDefault: string; pullPath: string; inspect: boolean },
): Promise<Defect[]> {
  const all = workloads(objects);
  const store = mergeStores(secretStore(objects), existingSecrets());
  const chatService =
    objects.find(
      (o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/component'] === 'chat-api',
    )?.metadata.name ?? '';
  return [
    ...checkSecretKeys(all, store),
    ...checkDefaultModel(all, options.serviceDefault),
    ...checkAdminPullRoute(ingressRoutes(objects), options.pullPath, chatService),
    ...checkReadOnlyRoot(all, isCorralImage),
    // The StatefulSets' pods are stand-ins here (ollama-sim, the machine's PostgreSQL and Redis).
    ...(options.inspect
      ? await checkCommands(
          all.filter((w) => w.kind !== 'StatefulSet'),
          new PodmanInspector(),
        )
      : []),
  ];
}

interface Running {
  name: string;
  workload: Workload;
  port: number;
  metricsPort?: number;
  startedAt: number;
  readyMs?: number;
}

export async function rehearse(options: {
  extraValues: string[];
  reporter: Reporter;
  pullPath?: string;
}): Promise<{ ready: Running[]; browser: BrowserResult }> {
  const { reporter } = options;
  const dir = mkdtempSync(join(tmpdir(), 'corral-rehearsal-'));
  const runId = randomBytes(3).toString('hex');
  const database = `corral_rehearsal_${runId}`;
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const started: string[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const objects = renderChart({
      valuesFiles: [REHEARSAL_VALUES, runValues(dir, database), ...options.extraValues],
    });
    const all = workloads(objects);
    const store = mergeStores(secretStore(objects), existingSecrets());
    reporter.info(`rendered ${objects.length} objects; database ${database} on the machine's PostgreSQL`);

    const pullPath = options.pullPath ?? (await webPullPath());
    const defects = await staticDefects(objects, {
      serviceDefault: await serviceDefaultModel(),
      pullPath,
      inspect: true,
    });
    if (defects.length > 0) throw new RehearsalFailed(defects);

    // Stand-ins, stated: ollama-sim for the Ollama pods, the machine's PostgreSQL and Redis.
    const models = pulledModels(all) ?? [];
    const sim = await startOllamaSim({ port: await freePort(), host: '127.0.0.1', models });
    cleanups.push(() => sim.close());
    reporter.info(
      `STAND-IN: the Ollama StatefulSet's pods are replaced by ollama-sim (a simulator) at ${sim.url}, holding ${models.join(', ')}`,
    );
    reporter.info(
      "STAND-IN: PostgreSQL and Redis are this machine's servers (127.0.0.1:5432, :6379); the bundled StatefulSets are not started",
    );

    const hosts = serviceNames(objects);
    const deployments = all.filter((w) => w.kind === 'Deployment');
    const overrides = new Map<string, Record<string, string>>();
    for (const d of deployments) {
      // Host networking: every pod's metrics port would be 9464; each gets its own (stated).
      const metricsPort = await freePort();
      const env: Record<string, string> = { METRICS_PORT: String(metricsPort) };
      if (d.component === 'inference-gateway')
        Object.assign(env, { OLLAMA_DISCOVERY: 'static', OLLAMA_URLS: sim.url });
      overrides.set(d.name, env);
    }
    reporter.info(
      'DEVIATION: METRICS_PORT is a free port per pod (all pods share the host network); the gateway uses static discovery of the simulator (no Kubernetes API here)',
    );

    const runJob = async (job: Workload) => {
      for (let attempt = 1; ; attempt++) {
        const results: { code: number; output: string; container: string }[] = [];
        for (const c of job.spec.initContainers ?? []) {
          const r = await runContainer(job, c.name, false);
          results.push(r);
          if (r.code !== 0) break;
        }
        if (results.every((r) => r.code === 0)) {
          results.push(
            ...(await Promise.all(job.spec.containers.map((c) => runContainer(job, c.name, false)))),
          );
        }
        for (const r of results) defects.push(...readOnlyWrites(`${job.name}/${r.container}`, r.output));
        const failed = results.find((r) => r.code !== 0);
        if (!failed) {
          reporter.info(`hook ${job.hooks.join(',')} weight ${job.hookWeight}: Job ${job.name} succeeded`);
          return;
        }
        if (attempt > job.backoffLimit || defects.length > 0) {
          throw new Error(
            `Job ${job.name}, container ${failed.container} failed (exit ${failed.code}):\n${failed.output.slice(-2000)}`,
          );
        }
      }
    };

    const runContainer = async (w: Workload, containerName: string, detach: boolean) => {
      const container = containersOf(w).find((c) => c.name === containerName)!;
      const resolved = resolveEnv(container, store, `${w.kind} ${w.name}`);
      const env = { ...resolved.env, ...(overrides.get(w.name) ?? {}) };
      const name = `rehearsal-${runId}-${w.name}-${container.name}`.slice(0, 120);
      const args = podmanRunArgs({ name, pod: w.spec, container, env, hosts, workDir: dir, store, detach });
      if (detach) started.push(name);
      const result = await runToCompletion(args);
      return { ...result, container: container.name, name };
    };

    // Host networking: each Deployment's http port must be free on this machine.
    for (const d of deployments) {
      const port = d.spec.containers[0]?.ports?.find((p) => p.name === 'http')?.containerPort ?? 0;
      if (!(await portIsFree(port)))
        throw new Error(
          `port ${port} (${d.name}'s http port) is in use on this machine: stop what listens there and run again`,
        );
    }

    for (const job of hooksOf(all, 'pre-install')) await runJob(job);

    const running: Running[] = [];
    for (const d of deployments) {
      const c = d.spec.containers[0]!;
      const port = c.ports?.find((p) => p.name === 'http')?.containerPort ?? 0;
      const startedAt = Date.now();
      const r = await runContainer(d, c.name, true);
      if (r.code !== 0) throw new Error(`podman could not start ${d.name}: ${r.output}`);
      running.push({
        name: r.name,
        workload: d,
        port,
        startedAt,
        metricsPort: Number(overrides.get(d.name)?.METRICS_PORT),
      });
    }

    for (const job of hooksOf(all, 'post-install')) await runJob(job);

    await Promise.all(running.map((r) => waitReady(r)));
    for (const r of running)
      reporter.info(
        `ready: ${r.workload.name} in ${((r.readyMs ?? 0) / 1000).toFixed(1)} s (start to ready)`,
      );

    // The front, from the Ingress.
    const frontDir = join(dir, 'front');
    mkdirSync(frontDir, { recursive: true });
    const settings = frontFromIngress(objects, (service, port) => {
      const target = running.find(
        (r) =>
          r.workload.component ===
          objects.find((o) => o.kind === 'Service' && o.metadata.name === service)?.metadata.labels?.[
            'app.kubernetes.io/component'
          ],
      );
      return `127.0.0.1:${target?.port ?? port}`;
    });
    const caFile = generateCertificate(frontDir, settings.host);
    const frontPort = await freePort();
    const nginx = startNginx(settings, frontDir, frontPort);
    cleanups.push(() => void nginx.kill('SIGTERM'));
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${frontPort}/`).catch(() => undefined)) !== undefined,
      10_000,
      'nginx front',
    );
    reporter.info(
      `front: nginx on https://${settings.host}:${frontPort} (self-signed), body ${settings.clientMaxBodySize}, read timeout ${settings.readTimeout}, buffering ${settings.buffering ? 'on' : 'off'}`,
    );

    const journeyAdmin = {
      email: String(objects.length && adminEmail(all)),
      password: store.get(`Secret/${ADMIN_SECRET}`)?.password ?? '',
    };
    defects.push(
      ...(await runJourney({
        front: { host: settings.host, port: frontPort, caFile },
        admin: journeyAdmin,
        model: models[0] ?? 'llama3.2',
        pullPath,
        log: (s) => reporter.step(s),
      })),
    );
    // The same journey in a browser: Chromium through the front, screenshots kept.
    const browser = await runBrowserJourney({
      front: { host: settings.host, port: frontPort, caFile },
      admin: journeyAdmin,
      log: (s) => reporter.step(s),
    });

    // `helm test`: the test pods' commands, as rendered, in hook-weight order (readyz, then
    // `corral doctor --smoke` from the CLI image).
    for (const test of hooksOf(all, 'test')) {
      const r = await runContainer(test, test.spec.containers[0]!.name, false);
      if (r.code !== 0) throw new Error(`helm test pod ${test.name} failed:\n${r.output}`);
      reporter.step({ step: 'helm test', detail: `${test.name}: exit 0` });
      for (const line of r.output.trim().split('\n')) reporter.info(`  ${test.name}: ${line}`);
    }
    const smokeKeys = await smokeKeysLeft(database);
    if (hooksOf(all, 'test').some((t) => t.component === 'doctor')) {
      if (smokeKeys.total === 0)
        throw new Error('helm test: the doctor created no smoke key (did --smoke run?)');
      if (smokeKeys.active > 0)
        throw new Error(`helm test: the doctor left ${smokeKeys.active} smoke key(s) unrevoked`);
      reporter.step({
        step: 'doctor smoke key',
        detail: `${smokeKeys.total} created, all revoked (auth.api_keys)`,
      });
    }

    // The backup CronJobs from the CLI image: `corral backup` (encrypted with the rendered key),
    // then the weekly `corral backup verify` on the same volume.
    const backupJobs = all
      .filter((w) => w.kind === 'CronJob' && w.component === 'backup')
      .sort((a, b) => Number(a.name.endsWith('-verify')) - Number(b.name.endsWith('-verify')));
    for (const cron of backupJobs) {
      const c = cron.spec.containers[0]!;
      const r = await runContainer(cron, c.name, false);
      defects.push(...readOnlyWrites(`${cron.name}/${c.name}`, r.output));
      if (r.code !== 0)
        throw new Error(`CronJob ${cron.name} failed (exit ${r.code}):\n${r.output.slice(-3000)}`);
      const claim = cron.spec.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
      const files = claim ? readdirSync(join(dir, 'pvc', claim)) : [];
      reporter.step({
        step: 'backup',
        detail: `CronJob ${cron.name} (${c.image}, ${[...(c.command ?? []), ...(c.args ?? [])].join(' ')}): exit 0; volume holds ${files.join(', ')}`,
      });
      for (const line of r.output.trim().split('\n')) reporter.info(`  ${cron.name}: ${line}`);
    }

    // Every pod's metrics port.
    for (const r of running) {
      const res = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`);
      const text = await res.text();
      if (res.status !== 200 || !text.includes('# HELP'))
        throw new Error(`metrics of ${r.workload.name}: HTTP ${res.status}`);
      reporter.step({
        step: 'metrics',
        detail: `${r.workload.name}: ${text.split('\n').filter((l) => l.startsWith('# HELP')).length} metric families`,
      });
    }

    for (const name of started) defects.push(...readOnlyWrites(name, await containerLogs(name, 1000)));
    if (defects.length > 0) throw new RehearsalFailed(defects);
    return { ready: running, browser };
  } finally {
    for (const name of started) await podman(['rm', '-f', '-t', '5', name]).catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }

  async function waitReady(r: Running): Promise<void> {
    const c = r.workload.spec.containers[0]!;
    const probes = [c.startupProbe, c.readinessProbe].filter((p) => p?.httpGet);
    let polls = 0;
    for (const probe of probes) {
      const limitMs = (probe!.periodSeconds ?? 10) * (probe!.failureThreshold ?? 3) * 1000 + 60_000;
      try {
        await waitFor(
          async () => {
            // A container that writes to its read-only root crash-loops: name it without waiting out the probe.
            if (++polls % 10 === 0) {
              const writes = readOnlyWrites(r.workload.name, await containerLogs(r.name));
              if (writes.length > 0) throw new RehearsalFailed(writes);
            }
            const res = await fetch(`http://127.0.0.1:${r.port}${probe!.httpGet!.path}`).catch(
              () => undefined,
            );
            return res?.status === 200;
          },
          limitMs,
          `${r.workload.name} ${probe!.httpGet!.path}`,
        );
      } catch (error) {
        if (error instanceof RehearsalFailed) throw error;
        const logs = await containerLogs(r.name);
        const writes = readOnlyWrites(r.workload.name, logs);
        if (writes.length > 0) throw new RehearsalFailed(writes);
        throw new Error(`${(error as Error).message}; its last log lines:\n${logs}`, { cause: error });
      }
    }
    r.readyMs = Date.now() - r.startedAt;
  }
}

/** Smoke keys (`corral doctor --smoke` names them corral-doctor-smoke-<time>) in this run's auth schema. */
async function smokeKeysLeft(database: string): Promise<{ total: number; active: number }> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
  await client.connect();
  try {
    const { rows } = await client.query<{ total: string; active: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE revoked_at IS NULL) AS active
         FROM auth.api_keys WHERE name LIKE 'corral-doctor-smoke-%'`,
    );
    return { total: Number(rows[0]!.total), active: Number(rows[0]!.active) };
  } finally {
    await client.end();
  }
}

function adminEmail(all: Workload[]): string {
  const seed = all.find((w) => w.component === 'seed-admin');
  return seed?.spec.containers[0]?.env?.find((e) => e.name === 'BOOTSTRAP_ADMIN_EMAIL')?.value ?? '';
}

async function waitFor(check: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
