/**
 * Full path: /v1/chat/completions through chat-api (API key auth, rate limit, usage persistence)
 * + gateway + ollama-sim, against the same requests sent to the gateway alone, at a fixed offered
 * load (open loop). Also the conversation route (POST /api/conversations/:id/messages), which
 * stores each turn, against the gateway's /api/chat stream.
 */
import pg from 'pg';
import { request } from 'undici';
import { GATEWAY_SERVICE_TOKEN, MODEL, createApiKey, signIn, startCorralStack } from '../lib/corral.js';
import { databaseUrl, dropDatabase, recreateDatabase } from '../lib/db.js';
import { agent, jsonRequest } from '../lib/http.js';
import { type LoadResult, openLoop } from '../lib/load.js';
import { cpuSeconds, startMachineCpu } from '../lib/proc.js';
import { RUN_FROM, type RunningProcess, stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { printTable } from '../lib/table.js';

/** Its own database, dropped at the end (BENCH_FULLPATH_DB: another name, so two runs on one server do not collide). */
const DATABASE = process.env.BENCH_FULLPATH_DB ?? 'corral_bench_fullpath';
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const SIM = { tokensPerSecond: 2000, ttftMs: 5, responseTokens: 16 };
/** Added latency allowed over the gateway alone: /v1 (2 / 10 ms), the conversation route that stores each turn (issue 21: 5 / 25 ms). */
const TARGETS: Record<string, { addedP50Ms: number; addedP99Ms: number }> = {
  v1: { addedP50Ms: 2, addedP99Ms: 10 },
  'conversation SSE': { addedP50Ms: 5, addedP99Ms: 25 },
};

type Send = (index: number) => Promise<void>;

async function post(
  url: string,
  token: string,
  body: unknown,
  check: (text: string) => boolean,
): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${text.slice(0, 200)}`);
  if (!check(text)) throw new Error(`incomplete reply: …${text.slice(-200)}`);
}

const completion = (i: number, stream: boolean) => ({
  model: MODEL,
  messages: [{ role: 'user', content: `Say something about request ${i}` }],
  stream,
});

/** A function tool: the sim answers a tools request on a tools model with a schema-valid call. */
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: {
      type: 'object',
      required: ['city', 'unit'],
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    },
  },
};

const toolsCompletion = (i: number) => ({
  ...completion(i, false),
  tools: [WEATHER_TOOL],
  tool_choice: 'auto',
});

/** The answer is a tool call (finish_reason tool_calls), not text: the tools went through. */
const toolCallDone = (text: string) =>
  text.includes('"finish_reason":"tool_calls"') && text.includes('get_weather');

const v1Done = (stream: boolean) => (text: string) =>
  stream ? text.includes('data: [DONE]') : text.includes('"chat.completion"');

interface Phase {
  mode: string;
  target: 'gateway' | 'chat-api';
  send: Send;
}

interface PhaseResult {
  mode: string;
  target: string;
  load: LoadResult;
  cpu: Record<string, number>;
}

/** The service's last logged error, cut short: enough to say why requests failed. */
function lastErrorLine(target: RunningProcess | undefined): string {
  const lines = (target?.output() ?? '').split('\n');
  const line = lines.reverse().find((l) => l.includes('"level":"error"')) ?? lines[0] ?? '';
  return `    ${line.slice(0, 300)}`;
}

async function runPhase(phase: Phase, watched: RunningProcess[]): Promise<PhaseResult> {
  const before = watched.map((p) => cpuSeconds(p.pid));
  const machineCpu = startMachineCpu();
  const load = await openLoop(RATE, SECONDS, phase.send);
  const cpu: Record<string, number> = Object.fromEntries(
    watched.map((p, i) => [
      p.name,
      round(((cpuSeconds(p.pid) - (before[i] ?? 0)) / load.elapsedSeconds) * 100),
    ]),
  );
  cpu.machine = round(machineCpu());
  const s = summarize(load.latenciesMs);
  if (load.errors > 0) {
    const target = watched.find(
      (p) => p.name === phase.target || (phase.target === 'gateway' && p.name === 'inference-gateway'),
    );
    console.log(
      `  ${load.errors} errors, e.g. ${load.errorSamples[0] ?? ''}\n  ${target?.name} said:\n${lastErrorLine(target)}`,
    );
  }
  console.log(
    `  ${phase.mode.padEnd(18)} ${phase.target.padEnd(8)} ${round(load.achievedRps)} req/s  p50 ${round(s.p50)} ms  p99 ${round(s.p99)} ms  errors ${load.errors}`,
  );
  return { mode: phase.mode, target: phase.target, load, cpu };
}

async function main(): Promise<void> {
  console.log(
    `full-path: ${RATE} req/s offered for ${SECONDS} s per phase (open loop), services from ${RUN_FROM}`,
  );
  await recreateDatabase(DATABASE);
  let stack: Awaited<ReturnType<typeof startCorralStack>> | undefined;
  const db = new pg.Client({ connectionString: databaseUrl(DATABASE) });
  try {
    stack = await startCorralStack({
      database: DATABASE,
      sim: SIM,
      chatEnv: {
        RATE_LIMIT_PER_MINUTE: '10000000',
        READ_RATE_LIMIT_PER_MINUTE: '0',
        MAX_CONCURRENT_STREAMS: '0',
      },
    });
    const { gateway, chat, auth } = stack;
    const user = await signIn(auth.url, `full-path-${Date.now()}@bench.local`);
    const apiKey = await createApiKey(auth.url, user.accessToken);
    await db.connect();

    // One conversation per conversation-route request, made up front through the API (a 503 from
    // a busy database, on a loaded machine, is retried: setup is not what is measured).
    const conversationsNeeded = Math.ceil(RATE * (SECONDS + WARMUP_SECONDS)) + 10;
    const conversationIds: string[] = [];
    const createConversation = async (): Promise<string> => {
      for (let attempt = 1; ; attempt++) {
        const res = await jsonRequest<{ conversation: { id: string } }>(
          'POST',
          `${chat.url}/api/conversations`,
          { token: user.accessToken, body: { title: 'bench' }, expect: [201, 503] },
        );
        if (res.status !== 503) return res.body.conversation.id;
        if (attempt === 10) throw new Error('POST /api/conversations: 503 ten times');
        await new Promise((resolve) => setTimeout(resolve, 1000)); // its Retry-After
      }
    };
    for (let i = 0; i < conversationsNeeded; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, conversationsNeeded - i) }, createConversation),
      );
      conversationIds.push(...batch);
    }
    let nextConversation = 0;

    const phases: Phase[] = [];
    for (const stream of [false, true]) {
      const mode = stream ? 'v1 stream' : 'v1 non-stream';
      phases.push({
        mode,
        target: 'gateway',
        send: (i) =>
          post(
            `${gateway.url}/v1/chat/completions`,
            GATEWAY_SERVICE_TOKEN,
            completion(i, stream),
            v1Done(stream),
          ),
      });
      phases.push({
        mode,
        target: 'chat-api',
        send: (i) => post(`${chat.url}/v1/chat/completions`, apiKey, completion(i, stream), v1Done(stream)),
      });
    }
    // Tools: chat-api maps OpenAI's tools to Ollama's and the tool call back (ids, JSON-string arguments).
    phases.push({
      mode: 'v1 tools',
      target: 'gateway',
      send: (i) =>
        post(`${gateway.url}/v1/chat/completions`, GATEWAY_SERVICE_TOKEN, toolsCompletion(i), toolCallDone),
    });
    phases.push({
      mode: 'v1 tools',
      target: 'chat-api',
      send: (i) => post(`${chat.url}/v1/chat/completions`, apiKey, toolsCompletion(i), toolCallDone),
    });
    phases.push({
      mode: 'conversation SSE',
      target: 'gateway',
      send: (i) =>
        post(
          `${gateway.url}/api/chat`,
          GATEWAY_SERVICE_TOKEN,
          {
            model: MODEL,
            messages: [{ role: 'user', content: `Say something about request ${i}` }],
            stream: true,
          },
          (text) => text.includes('"done":true'),
        ),
    });
    phases.push({
      mode: 'conversation SSE',
      target: 'chat-api',
      send: (i) => {
        const id = conversationIds[nextConversation++];
        if (!id) return Promise.reject(new Error('ran out of conversations'));
        return post(
          `${chat.url}/api/conversations/${id}/messages`,
          user.accessToken,
          { content: `Say something about request ${i}` },
          (text) => text.includes('event: done'),
        );
      },
    });

    const only = process.env.BENCH_MODES?.split(',');
    if (only) phases.splice(0, phases.length, ...phases.filter((p) => only.includes(p.mode)));
    const results: Array<PhaseResult & { persisted?: Record<string, number> }> = [];
    for (const phase of phases) {
      const count = async () => {
        const { rows } = await db.query<{ messages: string; usage: string | null; commits: string }>(
          `SELECT (SELECT count(*) FROM chat.messages WHERE role = 'assistant' AND status = 'complete') AS messages,
                  (SELECT sum(requests) FROM chat.usage_records) AS usage,
                  (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits`,
        );
        return {
          messages: Number(rows[0]?.messages ?? 0),
          usage: Number(rows[0]?.usage ?? 0),
          commits: Number(rows[0]?.commits ?? 0),
        };
      };
      await openLoop(RATE, WARMUP_SECONDS, (i) => phase.send(1_000_000 + i));
      const before = await count();
      const result = await runPhase(phase, [stack.sim, gateway, chat, auth]);
      // Replies are saved when they end; give the last ones a moment to land.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = await count();
      results.push({
        ...result,
        persisted:
          phase.target === 'chat-api'
            ? {
                assistantMessagesPerSecond: round(
                  (after.messages - before.messages) / result.load.elapsedSeconds,
                ),
                usageRequestsPerSecond: round((after.usage - before.usage) / result.load.elapsedSeconds),
                // Statements that committed in the database (each a round trip), per reply stored.
                commitsPerReply: round(
                  (after.commits - before.commits) / Math.max(1, after.messages - before.messages),
                ),
              }
            : {},
      });
    }

    const rows = [];
    const json = [];
    for (const mode of [...new Set(results.map((r) => r.mode))]) {
      const base = results.find((r) => r.mode === mode && r.target === 'gateway');
      const corral = results.find((r) => r.mode === mode && r.target === 'chat-api');
      if (!base || !corral) continue;
      const b = summarize(base.load.latenciesMs);
      const c = summarize(corral.load.latenciesMs);
      const persisted = corral.persisted ?? {};
      rows.push([
        mode,
        round(base.load.achievedRps),
        round(corral.load.achievedRps),
        round(b.p50),
        round(c.p50),
        round(c.p50 - b.p50),
        round(b.p99),
        round(c.p99),
        round(c.p99 - b.p99),
        `${base.load.errors}/${corral.load.errors}`,
        persisted.assistantMessagesPerSecond,
        persisted.usageRequestsPerSecond,
        persisted.commitsPerReply,
        corral.cpu['chat-api'],
        corral.cpu.machine,
      ]);
      json.push({
        mode,
        offeredRps: RATE,
        seconds: SECONDS,
        gateway: {
          achievedRps: round(base.load.achievedRps),
          errors: base.load.errors,
          errorSamples: base.load.errorSamples,
          latencyMs: roundAll(b),
          cpuPercent: base.cpu,
        },
        chatApi: {
          achievedRps: round(corral.load.achievedRps),
          errors: corral.load.errors,
          errorSamples: corral.load.errorSamples,
          latencyMs: roundAll(c),
          cpuPercent: corral.cpu,
          persisted,
        },
        addedLatencyMs: { p50: round(c.p50 - b.p50), p99: round(c.p99 - b.p99) },
        target: TARGETS[mode] ?? TARGETS['v1']!,
      });
    }
    printTable(
      `Full path at ${RATE} req/s offered (open loop, ${SECONDS} s) — gateway alone vs chat-api + gateway; latency in ms from scheduled start`,
      [
        'mode',
        'gw rps',
        'chat rps',
        'gw p50',
        'chat p50',
        '+p50',
        'gw p99',
        'chat p99',
        '+p99',
        'errors gw/chat',
        'turns/s saved',
        'usage rows/s',
        'commits/reply',
        'chat-api CPU%',
        'machine CPU%',
      ],
      rows,
    );
    console.log(
      'target: +p50 ≤ 2 ms, +p99 ≤ 10 ms at 200 req/s for /v1; +p50 ≤ 5 ms, +p99 ≤ 25 ms for the conversation route. "turns/s saved" = completed assistant rows in chat.messages (the /v1 API stores none by design; it records usage).',
    );
    writeResults('full-path', { runFrom: RUN_FROM, sim: SIM, results: json });
  } finally {
    await db.end().catch(() => undefined);
    await stopAll(stack?.all ?? []);
    await dropDatabase(DATABASE).catch(() => undefined);
  }
}

function roundAll<T extends object>(values: T): T {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]),
  ) as T;
}

await main();
