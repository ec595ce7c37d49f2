// Upgrade and rollback, rehearsed from the images: the previous release (.ci/previous-release)
// installed from its own images and chart, data made through it; `helm upgrade` to this tree's
// images (pre-upgrade migrations while the old pods serve, then the rolling update with a reply
// streaming through the front); `helm rollback` (the previous images on the expanded schema, no
// hooks). Each phase is timed; every check names what it found.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { startOllamaSim } from '@corral/ollama-sim';
import { pulledModels } from './checks.js';
import { ChatClient, type StoredMessage, type StreamedReply } from './chat-client.js';
import { upgradedStore } from './cluster.js';
import { frontFromIngress, generateCertificate, nginxConf, startNginx } from './front.js';
import { frontFetch, runJourney, type Front } from './journey.js';
import { REPO_ROOT, hooksOf, renderChart, secretStore, workloads, type K8sObject } from './manifests.js';
import { Release, type Revision, type RollStep } from './release.js';
import { freePort, webPullPath, type Reporter } from './rehearse.js';

export const UPGRADE_VALUES = `${REPO_ROOT}tests/rehearsal/values/upgrade-values.yaml`;

export interface Timing {
  phase: string;
  ms: number;
}

export interface UpgradeResult {
  previous: string;
  timings: Timing[];
  rolls: { upgrade: RollStep[]; rollback: RollStep[] };
  during: { requests: number; failed: number };
  stream: { chars: number; resumed: boolean; status: string };
}

/** The previous release's commit and chart (from `git archive`), and its image tag. */
export function previousRelease(dir: string): { commit: string; tag: string; chartDir: string } {
  const pinned = execFileSync('sed', ['-n', 's/^\\([0-9a-f]\\{7,40\\}\\).*/\\1/p', '.ci/previous-release'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')[0];
  if (!pinned) throw new Error('.ci/previous-release names no commit');
  const commit = execFileSync('git', ['rev-parse', '--short=7', pinned], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  }).trim();
  const tree = join(dir, 'previous');
  mkdirSync(tree, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} charts/corral | tar -x -C "${tree}"`], { cwd: REPO_ROOT });
  return { commit, tag: `prev-${commit}`, chartDir: join(tree, 'charts', 'corral') };
}

export async function rehearseUpgrade(options: { reporter: Reporter }): Promise<UpgradeResult> {
  const { reporter } = options;
  const info = (line: string) => reporter.info(line);
  const dir = mkdtempSync(join(tmpdir(), 'corral-upgrade-'));
  const runId = randomBytes(3).toString('hex');
  const database = `corral_upgrade_${runId}`;
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const timings: Timing[] = [];
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await work();
    timings.push({ phase, ms: Date.now() - started });
    info(`phase "${phase}": ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  const cleanups: (() => Promise<void> | void)[] = [];
  const prev = previousRelease(dir);
  const runValues = join(dir, 'run-values.yaml');
  const render = (chartDir: string | undefined, tag: string): K8sObject[] => {
    writeFileSync(runValues, stringify({ image: { tag }, postgresql: { database } }));
    return renderChart({ chartDir, valuesFiles: [UPGRADE_VALUES, runValues] });
  };
  try {
    const installed: Revision = {
      label: 'install',
      objects: render(prev.chartDir, prev.tag),
      store: new Map(),
    };
    installed.store = secretStore(installed.objects);
    const upgradedObjects = render(undefined, 'rehearsal');
    const upgraded: Revision = {
      label: 'upgrade',
      objects: upgradedObjects,
      store: upgradedStore(installed.store, upgradedObjects),
    };
    const rolledBack: Revision = { ...installed, label: 'rollback' };
    info(
      `previous release ${prev.commit}: its chart (git archive) and images localhost/corral/<service>:${prev.tag}`,
    );

    const models = pulledModels(workloads(upgraded.objects)) ?? [];
    const sim = await startOllamaSim({ port: await freePort(), host: '127.0.0.1', models, logger: null });
    cleanups.push(() => sim.close());
    info(
      `STAND-IN: ollama-sim for the Ollama pods (${models.join(', ')}); this machine's PostgreSQL and Redis`,
    );
    const release = new Release({
      runId,
      dir,
      info,
      overrides: (d): Record<string, string> =>
        d.component === 'inference-gateway' ? { OLLAMA_DISCOVERY: 'static', OLLAMA_URLS: sim.url } : {},
    });
    cleanups.push(() => release.close());
    info(
      'DEVIATION: host network, so each pod listens on a port of its own (PORT, METRICS_PORT) and a Service is a proxy on the manifest port that moves new connections to the ready pods (open ones stay, as with kube-proxy)',
    );

    // ---- install the previous release
    const frontDir = join(dir, 'front');
    mkdirSync(frontDir, { recursive: true });
    const frontPort = await freePort();
    let front!: Front;
    let data!: { conversationId: string; messages: StoredMessage[]; apiKey: string; password: string };
    const email = adminEmail();
    await timed(`install ${prev.commit} (hooks, pods ready, data)`, async () => {
      await release.install(installed);
      const settings = frontFromIngress(installed.objects, (_service, port) => `127.0.0.1:${port}`);
      front = { host: settings.host, port: frontPort, caFile: generateCertificate(frontDir, settings.host) };
      const nginx = startNginx(settings, frontDir, frontPort);
      cleanups.push(() => void nginx.kill('SIGTERM'));
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${frontPort}/`).then(
            () => true,
            () => false,
          ),
        10_000,
        'nginx',
      );
      const password = installed.store.get('Secret/corral-bootstrap-admin')?.password ?? '';
      const client = await signIn(front, email, password);
      const apiKey = await client.createApiKey('made by the previous release');
      const conversationId = await client.createConversation('before the upgrade', models[0]!);
      for (const content of ['First message, before the upgrade.', 'Second message, before the upgrade.']) {
        const reply = await client.send(conversationId, content);
        if (reply.status !== 'complete')
          throw new Error(`a reply on ${prev.commit}: ${reply.status ?? 'broken stream'}`);
      }
      const messages = await client.messages(conversationId);
      await checkApiKey(front, apiKey, models[0]!);
      data = { conversationId, messages, apiKey, password };
      reporter.step({
        step: 'install data',
        detail: `${prev.commit}: conversation with ${messages.length} messages, an API key (openai SDK models.list + chat)`,
      });
    });

    // ---- helm upgrade: pre-upgrade hooks from the new images while the old pods serve
    const client = await signIn(front, email, data.password);
    await timed('upgrade: pre-upgrade hooks (migrations) while the old pods serve', async () => {
      const ran = await release.hooks('pre-upgrade', upgraded);
      // The old code on the expanded schema: it still reads and writes.
      const reply = await client.send(data.conversationId, 'Sent to the old pods after the migrations.');
      if (reply.status !== 'complete')
        throw new Error(
          `the previous release on the migrated schema: a reply ended ${reply.status ?? 'broken'}`,
        );
      data.messages = await client.messages(data.conversationId);
      reporter.step({
        step: 'pre-upgrade',
        detail: `${ran.join(', ')}; the old pods then stored a reply on the new schema`,
      });
    });

    // ---- the rolling update, a reply streaming through the front meanwhile
    const fast = sim.options();
    const {
      rolls: upgradeRolls,
      during,
      stream,
    } = await timed('upgrade: rolling update with a reply streaming', async () => {
      sim.setOptions({ tokensPerSecond: 12, responseTokens: 180 });
      const probe = trafficProbe(front, client.token);
      const { rolls, reply } = await streamDuringRoll(client, data.conversationId, (cutover) =>
        release.roll(upgraded, cutover),
      );
      const traffic = await probe.stop();
      sim.setOptions(fast);
      const finished = await finishStream(client, data.conversationId, reply);
      reloadFront(frontDir, frontPort, upgraded.objects);
      return { rolls, during: traffic, stream: finished };
    });
    for (const r of upgradeRolls)
      reporter.step({
        step: 'rolled',
        detail: `${r.deployment}: ${r.from} -> ${r.to} (surge ${r.maxSurge}, unavailable ${r.maxUnavailable}), new pod ready ${(r.readyMs / 1000).toFixed(1)} s, old pod drained in ${(r.drainMs / 1000).toFixed(1)} s`,
      });
    reporter.step({
      step: 'during the roll',
      detail: `${during.requests} requests through the front, ${during.failed} failed; the streamed reply ${stream.resumed ? 'resumed with Last-Event-ID and ' : ''}ended ${stream.status} (${stream.chars} chars)`,
    });
    if (during.failed > 0)
      throw new Error(
        `${during.failed} of ${during.requests} requests failed during the rolling update (maxUnavailable 0)`,
      );

    await timed('upgrade: checks (data, journey, helm test)', async () => {
      await release.hooks('post-upgrade', upgraded);
      await checkData(client, data, stream);
      data.messages = await client.messages(data.conversationId);
      await checkApiKey(front, data.apiKey, models[0]!);
      const defects = await runJourney({
        front,
        admin: { email, password: data.password },
        model: models[0]!,
        pullPath: await webPullPath(),
        log: (s) => reporter.step(s),
      });
      if (defects.length > 0)
        throw new Error(`the journey after the upgrade: ${defects.map((d) => d.message).join('; ')}`);
      await helmTest(release, upgraded, reporter);
    });

    // ---- helm rollback: the previous revision's manifests again, no hooks, the schema stays
    const rollbackRolls = await timed(`rollback to ${prev.commit} (rolling update, no hooks)`, async () => {
      const rolls = await release.roll(rolledBack);
      reloadFront(frontDir, frontPort, rolledBack.objects);
      return rolls;
    });
    for (const r of rollbackRolls)
      reporter.step({
        step: 'rolled back',
        detail: `${r.deployment}: ${r.from} -> ${r.to}, ready ${(r.readyMs / 1000).toFixed(1)} s`,
      });
    await timed('rollback: checks (data, a reply, helm test, doctor --smoke)', async () => {
      await checkData(client, data);
      await checkApiKey(front, data.apiKey, models[0]!);
      const conversationId = await client.createConversation('after the rollback', models[0]!);
      const reply = await client.send(conversationId, 'Hello after the rollback.');
      if (reply.status !== 'complete' || !reply.text)
        throw new Error(`a reply after the rollback: ${reply.status ?? 'broken'}`);
      const saved = await client.messages(conversationId);
      if (saved.find((m) => m.role === 'assistant')?.content !== reply.text)
        throw new Error('after the rollback, the saved reply differs from the streamed one');
      reporter.step({
        step: 'rollback reply',
        detail: `a new conversation: ${reply.text.length} chars streamed and saved`,
      });
      await helmTest(release, rolledBack, reporter);
      // The previous chart has no doctor pod; this chart's (`corral doctor --smoke`, this tree's
      // CLI image) runs against the rolled-back services, as scripts/check-rollback.sh does.
      const doctor = hooksOf(workloads(upgraded.objects), 'test').find((t) => t.component === 'doctor');
      if (doctor) {
        const r = await release.run(doctor, doctor.spec.containers[0]!.name, {
          ...upgraded,
          label: 'rollback',
        });
        if (r.code !== 0)
          throw new Error(`corral doctor --smoke against the rolled-back release:\n${r.output.slice(-2000)}`);
        reporter.step({
          step: 'doctor --smoke',
          detail: `${doctor.name} (this chart's) against ${prev.commit}: exit 0`,
        });
      }
    });
    return {
      previous: prev.commit,
      timings,
      rolls: { upgrade: upgradeRolls, rollback: rollbackRolls },
      during,
      stream,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signIn(front: Front, email: string, password: string): Promise<ChatClient> {
  const client = new ChatClient(frontFetch(front), `https://${front.host}:${front.port}`);
  await client.login(email, password);
  return client;
}

/** The API key made on the previous release, through the `openai` SDK. */
async function checkApiKey(front: Front, apiKey: string, model: string): Promise<void> {
  const openai = new OpenAI({
    apiKey,
    baseURL: `https://${front.host}:${front.port}/v1`,
    fetch: frontFetch(front),
    maxRetries: 0,
  });
  const ids = (await openai.models.list()).data.map((m) => m.id);
  if (ids.length === 0) throw new Error('the API key lists no models');
  const reply = await openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Still there?' }],
  });
  if (!reply.choices[0]?.message.content) throw new Error('the API key made before the upgrade got no reply');
}

/**
 * The roll, with a reply started on the old pods once every surge pod is ready (its first token
 * through the front), so the old pods get SIGTERM while it streams.
 */
async function streamDuringRoll(
  client: ChatClient,
  conversationId: string,
  roll: (beforeCutover: () => Promise<void>) => Promise<RollStep[]>,
): Promise<{ rolls: RollStep[]; reply: StreamedReply }> {
  let reply: Promise<StreamedReply> | undefined;
  const rolls = await roll(async () => {
    let firstToken!: () => void;
    const streaming = new Promise<void>((resolve) => (firstToken = resolve));
    reply = client.send(conversationId, 'A long reply, please, while the pods are replaced.', (block) => {
      if (block.includes('event: token')) firstToken();
    });
    await Promise.race([streaming, reply]);
  });
  if (!reply) throw new Error('the roll never reached its cutover');
  return { rolls, reply: await reply };
}

/** A broken stream resumes from Last-Event-ID; either way the reply must end complete. */
async function finishStream(
  client: ChatClient,
  conversationId: string,
  reply: StreamedReply,
): Promise<UpgradeResult['stream']> {
  if (reply.status === 'complete') return { chars: reply.text.length, resumed: false, status: 'complete' };
  if (!reply.messageId) throw new Error('the reply streaming during the roll broke before its start event');
  const resumed = await client.resume(conversationId, reply);
  const text = resumed.snapshot ? resumed.text : reply.text + resumed.text;
  if (resumed.status !== 'complete')
    throw new Error(
      `the reply streaming during the roll broke after ${reply.text.length} chars and resumed to "${resumed.status ?? 'a broken stream'}"`,
    );
  return { chars: text.length, resumed: true, status: 'complete' };
}

/** Nothing stored before is lost or changed; the reply streamed during the roll is saved whole. */
async function checkData(
  client: ChatClient,
  data: { conversationId: string; messages: StoredMessage[] },
  streamed?: UpgradeResult['stream'],
): Promise<void> {
  const now = await client.messages(data.conversationId);
  for (const before of data.messages) {
    const after = now.find((m) => m.id === before.id);
    if (!after) throw new Error(`message ${before.id} (${before.role}) stored before is gone`);
    if (after.content !== before.content)
      throw new Error(`message ${before.id} changed: "${after.content.slice(0, 80)}"`);
  }
  if (streamed) {
    const last = now.at(-1);
    if (last?.role !== 'assistant' || last.content.length !== streamed.chars)
      throw new Error(
        `the reply streamed during the roll: ${streamed.chars} chars streamed, the stored one has ${last?.content.length ?? 0} (${last?.status ?? '?'})`,
      );
  }
}

/** `helm test`: the revision's test pods, in hook-weight order. */
async function helmTest(release: Release, revision: Revision, reporter: Reporter): Promise<void> {
  for (const test of hooksOf(workloads(revision.objects), 'test')) {
    const r = await release.run(test, test.spec.containers[0]!.name, revision);
    if (r.code !== 0)
      throw new Error(`helm test pod ${test.name} (${revision.label}) failed:\n${r.output.slice(-2000)}`);
    reporter.step({ step: 'helm test', detail: `${revision.label}: ${test.name} exit 0` });
  }
}

/** Requests through the front while the pods are replaced: the web page and a signed-in API call. */
function trafficProbe(
  front: Front,
  token: string,
): { stop: () => Promise<{ requests: number; failed: number }> } {
  const httpFetch = frontFetch(front);
  const base = `https://${front.host}:${front.port}`;
  let running = true;
  const counts = { requests: 0, failed: 0 };
  // Paced under the per-user rate limit (60 a minute): the page every 250 ms, the API every 3 s.
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const [path, headers] =
        i % 12 === 0 ? ['/api/conversations', { Authorization: `Bearer ${token}` }] : ['/', {}];
      counts.requests += 1;
      const res = await httpFetch(`${base}${path}`, { headers }).catch(() => undefined);
      if (res?.status !== 200) counts.failed += 1;
      await res?.text();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}

/** The Ingress of the new revision: nginx reloads its configuration (open connections stay). */
function reloadFront(dir: string, port: number, objects: K8sObject[]): void {
  const settings = frontFromIngress(objects, (_service, servicePort) => `127.0.0.1:${servicePort}`);
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(settings, dir, port));
  execFileSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-s', 'reload'], { stdio: 'pipe' });
}

/** The bootstrap admin both releases seed (auth.bootstrapAdmin.email of the values). */
function adminEmail(): string {
  const values = parse(readFileSync(UPGRADE_VALUES, 'utf8')) as {
    auth: { bootstrapAdmin: { email: string } };
  };
  return values.auth.bootstrapAdmin.email;
}

async function waitFor(check: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
