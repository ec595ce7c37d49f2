/**
 * Routing benchmark: a pool of four ollama-sim processes with a GPU server's costs (`--profile
 * gpu-8b`: model loads, 4 slots per model, prompt processing that a slot's KV cache can skip, decode
 * slowed by busy slots), two models, and a multi-turn chat workload (many users, conversations of
 * 5–20 turns whose prompts grow, think time between turns), replayed identically through the
 * inference-gateway with each routing strategy in one run. Every strategy gets fresh sims (nothing
 * loaded, empty caches). Prints and writes TTFT p50/p99, tokens/s, cold loads, affinity hit rate, 503s.
 *
 *   BENCH_FROM=source node --conditions=corral-source --import tsx bench/routing/run.ts
 *
 * BENCH_USERS (28), BENCH_RAMP_SECONDS (12), BENCH_MIN_TURNS (5), BENCH_MAX_TURNS (20),
 * BENCH_THINK_MS ("1000-3000"), BENCH_SYSTEM_TOKENS ("1500-3000"), BENCH_STRATEGIES
 * (round-robin,least-outstanding,cache-aware), BENCH_SEED (7).
 */
import os from 'node:os';
import { type RunningProcess, startService, startSim, stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { printTable } from '../lib/table.js';
import { type Conversation, buildWorkload } from './workload.js';

const MODELS = ['llama3.2', 'qwen2.5'];
const range = (value: string | undefined, fallback: [number, number]): [number, number] => {
  if (!value) return fallback;
  const [low, high] = value.split('-').map(Number);
  return [low ?? fallback[0], high ?? low ?? fallback[1]];
};
const settings = {
  users: Number(process.env.BENCH_USERS ?? 28),
  models: MODELS,
  rampMs: Number(process.env.BENCH_RAMP_SECONDS ?? 12) * 1000,
  minTurns: Number(process.env.BENCH_MIN_TURNS ?? 5),
  maxTurns: Number(process.env.BENCH_MAX_TURNS ?? 20),
  systemTokens: range(process.env.BENCH_SYSTEM_TOKENS, [1500, 3000]),
  turnTokens: [40, 160] as [number, number],
  thinkMs: range(process.env.BENCH_THINK_MS, [1000, 3000]),
  seed: Number(process.env.BENCH_SEED ?? 7),
  /** Turns sent before this are the start-up (reported apart from the steady state). */
  warmupMs: Number(process.env.BENCH_WARMUP_SECONDS ?? 20) * 1000,
};
const strategies = (process.env.BENCH_STRATEGIES ?? 'round-robin,least-outstanding,cache-aware').split(',');
const SIM_ARGS = ['--profile', 'gpu-8b', '--max-queue', '512'];
const SLOTS = 4;
/** A turn whose load_duration is longer than this waited for its model to load. */
const LOAD_WAIT_NS = 500e6;

interface TurnResult {
  status: number;
  ttftMs: number | undefined;
  tokens: number;
  promptEvalTokens: number;
  /** Nanoseconds the sim spent loading the model for this request (Ollama's `load_duration`). */
  loadNs: number;
  backend: string | null;
  /** Turn index and when it was sent (ms from the start), for the per-turn dump. */
  turn?: number;
  sentMs?: number;
  /** The whole prompt, in the sim's tokens (four characters each). */
  promptTokens?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One streamed turn: TTFT is the time to the first line that carries reply text. */
async function sendTurn(
  url: string,
  conversation: Conversation,
  messages: Array<{ role: string; content: string }>,
): Promise<TurnResult & { reply: string }> {
  const started = performance.now();
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-corral-conversation': conversation.user },
    body: JSON.stringify({ model: conversation.model, messages, stream: true }),
  });
  const backend = res.headers.get('x-corral-backend');
  if (res.status !== 200 || !res.body) {
    await res.arrayBuffer().catch(() => undefined);
    return {
      status: res.status,
      ttftMs: undefined,
      tokens: 0,
      promptEvalTokens: 0,
      loadNs: 0,
      backend,
      reply: '',
    };
  }
  let ttftMs: number | undefined;
  let buffered = '';
  let reply = '';
  let tokens = 0;
  let promptEvalTokens = 0;
  let loadNs = 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (line === '') continue;
      const parsed = JSON.parse(line) as {
        message?: { content?: string };
        done?: boolean;
        eval_count?: number;
        prompt_eval_count?: number;
        load_duration?: number;
      };
      const content = parsed.message?.content ?? '';
      if (content !== '' && ttftMs === undefined) ttftMs = performance.now() - started;
      reply += content;
      if (parsed.done) {
        tokens = parsed.eval_count ?? 0;
        promptEvalTokens = parsed.prompt_eval_count ?? 0;
        loadNs = parsed.load_duration ?? 0;
      }
    }
  }
  return { status: 200, ttftMs, tokens, promptEvalTokens, loadNs, backend, reply };
}

/** Plays one user's conversation: every turn sends the whole conversation so far. */
async function playConversation(url: string, conversation: Conversation, t0: number): Promise<TurnResult[]> {
  await sleep(t0 + conversation.startMs - performance.now());
  const messages = [{ role: 'system', content: conversation.system }];
  const results: TurnResult[] = [];
  for (const [i, turn] of conversation.turns.entries()) {
    messages.push({ role: 'user', content: turn });
    const sentMs = performance.now() - t0;
    const result = await sendTurn(url, conversation, messages);
    const promptTokens = Math.ceil(messages.map((m) => m.content).join('\n').length / 4);
    results.push({ ...result, turn: i, sentMs: Math.round(sentMs), promptTokens });
    // A failed turn is answered with a fixed text so that the conversation goes on the same way.
    messages.push({ role: 'assistant', content: result.reply || 'sorry, try again' });
    await sleep(conversation.thinkMs[i] ?? 0);
  }
  return results;
}

async function coldLoads(sims: RunningProcess[]): Promise<number> {
  let total = 0;
  for (const sim of sims) {
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      models: Record<string, { coldLoads: number }>;
    };
    for (const model of Object.values(stats.models)) total += model.coldLoads;
  }
  return total;
}

async function runStrategy(strategy: string, workload: Conversation[]) {
  const processes: RunningProcess[] = [];
  try {
    // One after the other: four processes compiling at once on a loaded machine miss the ready timeout.
    const sims: RunningProcess[] = [];
    for (let i = 0; i < 4; i++) {
      sims.push(
        await startSim({
          tokensPerSecond: 45,
          ttftMs: 15,
          responseTokens: 48,
          models: MODELS,
          args: SIM_ARGS,
        }),
      );
    }
    processes.push(...sims);
    const gateway = await startService('inference-gateway', {
      OLLAMA_URLS: sims.map((sim) => sim.url).join(','),
      ROUTING_STRATEGY: strategy,
      BACKEND_MAX_PARALLEL: String(SLOTS),
      QUEUE_MAX: '10000',
      QUEUE_TIMEOUT_MS: '120000',
      INVENTORY_POLL_MS: '1000',
    });
    processes.push(gateway);
    const t0 = performance.now();
    const perUser = await Promise.all(workload.map((c) => playConversation(gateway.url, c, t0)));
    const seconds = (performance.now() - t0) / 1000;
    const turns = perUser.flat();
    const ttft = summarize(turns.flatMap((t) => (t.ttftMs === undefined ? [] : [t.ttftMs])));
    // The steady state: turns sent after the start-up window (loads, the users' first turns), the same
    // window for every strategy. Turns whose load_duration says they waited for a load are counted.
    const loadWaits = turns.filter((t) => t.loadNs >= LOAD_WAIT_NS).length;
    const steady = turns.filter((t) => (t.sentMs ?? 0) >= settings.warmupMs);
    const ttftSteady = summarize(steady.flatMap((t) => (t.ttftMs === undefined ? [] : [t.ttftMs])));
    const promptTotal = turns.reduce((sum, t) => sum + (t.status === 200 ? (t.promptTokens ?? 0) : 0), 0);
    let returning = 0;
    let sameBackend = 0;
    for (const results of perUser) {
      for (let i = 1; i < results.length; i++) {
        const [previous, current] = [results[i - 1]?.backend, results[i]?.backend];
        if (!previous || !current) continue;
        returning += 1;
        if (previous === current) sameBackend += 1;
      }
    }
    const tokens = turns.reduce((sum, t) => sum + t.tokens, 0);
    const row = {
      strategy,
      turns: turns.length,
      seconds: round(seconds),
      ttftP50Ms: round(ttft.p50),
      ttftP99Ms: round(ttft.p99),
      turnsWaitingForLoad: loadWaits,
      steadyTurns: steady.length,
      ttftP50SteadyMs: round(ttftSteady.p50),
      ttftP99SteadyMs: round(ttftSteady.p99),
      tokensPerSecond: round(tokens / seconds),
      promptTokensEvaluated: turns.reduce((sum, t) => sum + t.promptEvalTokens, 0),
      promptTokensCachedShare: round(1 - turns.reduce((sum, t) => sum + t.promptEvalTokens, 0) / promptTotal),
      coldLoads: await coldLoads(sims),
      affinityHitRate: returning === 0 ? null : round(sameBackend / returning),
      status503: turns.filter((t) => t.status === 503).length,
      otherErrors: turns.filter((t) => t.status !== 200 && t.status !== 503).length,
      loadAverage: os.loadavg().map((n) => round(n)),
    };
    console.log(`  ${strategy}: ${JSON.stringify(row)}`);
    if (process.env.BENCH_TURNS_FILE) {
      const { appendFileSync } = await import('node:fs');
      for (const [u, results] of perUser.entries())
        for (const t of results)
          appendFileSync(
            process.env.BENCH_TURNS_FILE,
            `${JSON.stringify({ strategy, user: u, ...t, reply: undefined })}\n`,
          );
    }
    return row;
  } finally {
    await stopAll(processes);
  }
}

async function main(): Promise<void> {
  const workload = buildWorkload(settings);
  const turnCount = workload.reduce((sum, c) => sum + c.turns.length, 0);
  console.log(
    `bench/routing: 4 sims (gpu-8b, ${SLOTS} slots per model), models ${MODELS.join(', ')}, ` +
      `${settings.users} users, ${turnCount} turns, ramp ${settings.rampMs / 1000} s, think ${settings.thinkMs.join('–')} ms`,
  );
  const rows = [];
  for (const strategy of strategies) rows.push(await runStrategy(strategy, workload));
  printTable(
    'routing strategies, same workload',
    [
      'strategy',
      'turns',
      'ttft p50 ms',
      'ttft p99 ms',
      'load-wait turns',
      'steady turns',
      'steady p50',
      'steady p99',
      'tok/s',
      'prompt tok evaluated',
      'cached',
      'cold loads',
      'affinity',
      '503s',
      'errors',
    ],
    rows.map((r) => [
      r.strategy,
      r.turns,
      r.ttftP50Ms,
      r.ttftP99Ms,
      r.turnsWaitingForLoad,
      r.steadyTurns,
      r.ttftP50SteadyMs,
      r.ttftP99SteadyMs,
      r.tokensPerSecond,
      r.promptTokensEvaluated,
      r.promptTokensCachedShare,
      r.coldLoads,
      r.affinityHitRate,
      r.status503,
      r.otherErrors,
    ]),
  );
  const rr = rows.find((r) => r.strategy === 'round-robin');
  const ca = rows.find((r) => r.strategy === 'cache-aware');
  if (rr && ca) {
    const ratio = round(ca.ttftP99Ms / rr.ttftP99Ms);
    const steady = round(ca.ttftP99SteadyMs / rr.ttftP99SteadyMs);
    console.log(
      `\ncache-aware TTFT p99 / round-robin: ${ratio} over all turns, ${steady} over turns sent after the first ${settings.warmupMs / 1000} s ` +
        `(target ≤ 0.5); ` +
        `cold loads ${ca.coldLoads} (bound: models × backends = ${MODELS.length * 4})`,
    );
  }
  writeResults('routing', { settings: { ...settings, strategies, simArgs: SIM_ARGS, slots: SLOTS }, rows });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
