/**
 * Memory: RSS of each service just after a warm-up, idle once V8 has shrunk its heap (settled), and while 1,000 chat streams are open
 * (client → web → chat-api → gateway → ollama-sim at 2 tokens/s), against a bare Node HTTP server.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { signIn, startCorralStack } from '../lib/corral.js';
import { dropDatabase, recreateDatabase } from '../lib/db.js';
import { agent, jsonRequest } from '../lib/http.js';
import { rssMiB, startSampler } from '../lib/proc.js';
import { RUN_FROM, type RunningProcess, stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round } from '../lib/stats.js';
import { printTable } from '../lib/table.js';

const DATABASE = 'corral_bench_memory';
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const HOLD_SECONDS = Number(process.env.BENCH_HOLD_SECONDS ?? 10);
const IDLE_TARGET_MIB = 100;
/** How long to wait at most for idle RSS to settle after the warm-up (V8 shrinks its heap ~10–20 s in). */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 60);
const SETTLE_WINDOW = 10;

/** RSS of a bare `http.createServer().listen(0)`: what Node itself costs. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', "require('http').createServer().listen(0)"], {
    stdio: 'ignore',
  });
  try {
    await sleep(1500);
    return rssMiB(child.pid ?? -1);
  } finally {
    child.kill('SIGKILL');
  }
}

/** Median of a few samples a short while apart. */
async function medianRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssMiB(pid));
    await sleep(300);
  }
  return samples.sort((a, b) => a - b)[2] as number;
}

/**
 * Idle as an operator sees it: V8's memory reducer shrinks the heap a burst of requests left
 * behind only some seconds after the burst, so RSS is sampled each second until every process has
 * stayed within 1 MiB for SETTLE_WINDOW samples (or SETTLE_SECONDS pass); the last sample counts.
 */
async function settledIdleRss(pids: number[]): Promise<{ rss: number[]; seconds: number; settled: boolean }> {
  const history: number[][] = pids.map(() => []);
  const started = Date.now();
  for (;;) {
    pids.forEach((pid, i) => history[i]?.push(rssMiB(pid)));
    const settled = history.every((h) => {
      const window = h.slice(-SETTLE_WINDOW);
      return window.length === SETTLE_WINDOW && Math.max(...window) - Math.min(...window) <= 1;
    });
    const seconds = (Date.now() - started) / 1000;
    if (settled || seconds >= SETTLE_SECONDS)
      return { rss: history.map((h) => h.at(-1) ?? Number.NaN), seconds, settled };
    await sleep(1000);
  }
}

interface OpenStream {
  abort: () => void;
}

/** Opens one SSE stream and resolves once its `start` event arrived; keeps reading until aborted. */
async function openStream(url: string, token: string, content: string): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ content }),
    signal: controller.signal,
  });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes('event: start')) {
        res.body.off('data', onData);
        res.body.on('data', () => undefined); // keep draining so nothing backs up
        resolve();
      }
    };
    res.body.on('data', onData);
    res.body.once('error', reject);
    res.body.once('end', () => reject(new Error('stream ended before start')));
  });
  res.body.on('error', () => undefined);
  return { abort: () => controller.abort() };
}

async function main(): Promise<void> {
  console.log(`memory: ${STREAMS} open streams held ${HOLD_SECONDS} s, services from ${RUN_FROM}`);
  const baseline = await bareNodeRss();
  await recreateDatabase(DATABASE);
  let stack: Awaited<ReturnType<typeof startCorralStack>> | undefined;
  const streams: OpenStream[] = [];
  try {
    stack = await startCorralStack({
      database: DATABASE,
      sim: { tokensPerSecond: 2, ttftMs: 0, responseTokens: 2000 },
      chatEnv: { RATE_LIMIT_PER_MINUTE: '0', READ_RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_STREAMS: '0' },
      withWeb: true,
    });
    const { web, chat, auth, sim } = stack;
    if (!web) throw new Error('web did not start');
    const services: RunningProcess[] = [auth, chat, stack.gateway, web];
    const user = await signIn(auth.url, `memory-${Date.now()}@bench.local`);

    // Warm-up: every route the streams use, once through the whole chain.
    const conversationIds: string[] = [];
    for (let i = 0; i < STREAMS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, STREAMS - i) }, () =>
          jsonRequest<{ conversation: { id: string } }>('POST', `${web.url}/api/conversations`, {
            token: user.accessToken,
            body: { title: 'memory bench' },
          }),
        ),
      );
      conversationIds.push(...batch.map((r) => r.body.conversation.id));
    }
    for (let i = 0; i < 100; i++) {
      await jsonRequest('GET', `${web.url}/api/conversations?limit=20`, { token: user.accessToken });
    }
    await sleep(2000);
    const afterWarmup = new Map<string, number>();
    for (const p of services) afterWarmup.set(p.name, await medianRss(p.pid));
    const settling = await settledIdleRss(services.map((p) => p.pid));
    const idle = new Map(services.map((p, i) => [p.name, settling.rss[i] as number]));

    // Open the streams, 50 at a time, then hold them.
    const samplers = services.map((p) => ({ name: p.name, sampler: startSampler(() => rssMiB(p.pid), 500) }));
    const openStarted = Date.now();
    let failures = 0;
    for (let i = 0; i < STREAMS; i += 50) {
      const opened = await Promise.allSettled(
        conversationIds
          .slice(i, i + 50)
          .map((id) =>
            openStream(
              `${web.url}/api/conversations/${id}/messages`,
              user.accessToken,
              `tell me a long story ${id}`,
            ),
          ),
      );
      for (const o of opened) {
        if (o.status === 'fulfilled') streams.push(o.value);
        else {
          failures += 1;
          if (failures <= 3) console.log(`  stream failed: ${String(o.reason)}`);
        }
      }
    }
    const openSeconds = (Date.now() - openStarted) / 1000;
    await sleep(HOLD_SECONDS * 1000);
    const simStats = (await jsonRequest<{ activeStreams: number }>('GET', `${sim.url}/_sim/stats`)).body;
    const loaded = new Map(samplers.map(({ name, sampler }) => [name, sampler.stop()]));

    const rows = [];
    const json = [];
    rows.push(['bare node http server (baseline)', null, round(baseline), null, null, null, '']);
    for (const p of services) {
      const samples = loaded.get(p.name) ?? [];
      const idleRss = idle.get(p.name) ?? Number.NaN;
      const peak = Math.max(...samples);
      const end = samples.at(-1) ?? Number.NaN;
      const ok = idleRss <= IDLE_TARGET_MIB;
      rows.push([
        p.name,
        round(afterWarmup.get(p.name) ?? Number.NaN),
        round(idleRss),
        round(end),
        round(peak),
        round(((peak - idleRss) * 1024) / streams.length),
        ok ? 'yes' : 'NO',
      ]);
      json.push({
        service: p.name,
        afterWarmupMiB: round(afterWarmup.get(p.name) ?? Number.NaN),
        idleMiB: round(idleRss),
        withStreamsMiB: round(end),
        peakMiB: round(peak),
        kibPerStream: round(((peak - idleRss) * 1024) / Math.max(1, streams.length)),
        idleTargetMiB: IDLE_TARGET_MIB,
        meetsIdleTarget: ok,
      });
    }
    printTable(
      `RSS (MiB): 2 s after the warm-up, idle (${settling.settled ? 'settled' : 'not settled'} after ${round(settling.seconds)} s), and with ${streams.length} streams open (${failures} failed to open; ollama-sim saw ${simStats.activeStreams} active; opening took ${round(openSeconds)} s)`,
      [
        'process',
        'after warm-up',
        'idle',
        `${streams.length} streams`,
        'peak',
        'KiB/stream',
        `idle ≤ ${IDLE_TARGET_MIB}`,
      ],
      rows,
    );
    writeResults('memory', {
      runFrom: RUN_FROM,
      streamsRequested: STREAMS,
      streamsOpen: streams.length,
      streamFailures: failures,
      simActiveStreams: simStats.activeStreams,
      openSeconds: round(openSeconds),
      holdSeconds: HOLD_SECONDS,
      idleSettleSeconds: round(settling.seconds),
      idleSettled: settling.settled,
      bareNodeMiB: round(baseline),
      results: json,
    });
  } finally {
    for (const s of streams) s.abort();
    await stopAll(stack?.all ?? []);
    await dropDatabase(DATABASE).catch(() => undefined);
  }
}

await main();
