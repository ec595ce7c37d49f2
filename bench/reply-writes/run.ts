/**
 * Long replies: bytes written to PostgreSQL per reply (WAL of the chat schema's relations, read with
 * pg_walinspect, so other activity on the server does not count) for 10k, 50k and 150k tokens, and
 * the latency of POST …/stop while three long replies stream (3,000 tokens/s each).
 */
import pg from 'pg';
import { request } from 'undici';
import { signIn, startCorralStack } from '../lib/corral.js';
import { databaseUrl, dropDatabase, recreateDatabase } from '../lib/db.js';
import { agent, jsonRequest } from '../lib/http.js';
import { stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { printTable } from '../lib/table.js';

const DATABASE = 'corral_bench_replywrites';
const SIZES = (process.env.BENCH_REPLY_TOKENS ?? '10000,50000,150000').split(',').map(Number);
const STOPS = Number(process.env.BENCH_STOPS ?? 40);
const STREAM_RATE = 3000;

/** Opens a reply over SSE; resolves `firstToken` at the first token and `done` with the final event. */
async function reply(chatUrl: string, token: string, conversationId: string) {
  const res = await request(`${chatUrl}/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: 'Write at length' }),
  });
  if (res.statusCode !== 200) throw new Error(`send → ${res.statusCode}: ${await res.body.text()}`);
  let resolveFirst!: () => void;
  const firstToken = new Promise<void>((resolve) => (resolveFirst = resolve));
  const done = (async () => {
    let tail = '';
    for await (const chunk of res.body) {
      tail = (tail + (chunk as Buffer).toString('utf8')).slice(-4000);
      if (tail.includes('event: token')) resolveFirst();
      const at = tail.indexOf('event: done');
      if (at >= 0 || tail.includes('event: error')) {
        resolveFirst();
        return tail.slice(at);
      }
    }
    resolveFirst();
    return tail;
  })();
  return { firstToken, done };
}

async function newConversation(chatUrl: string, token: string): Promise<string> {
  const { body } = await jsonRequest<{ conversation: { id: string } }>(
    'POST',
    `${chatUrl}/api/conversations`,
    {
      token,
      body: {},
    },
  );
  return body.conversation.id;
}

const simConfig = (simUrl: string, options: Record<string, number>) =>
  jsonRequest('POST', `${simUrl}/_sim/config`, { body: options });

await recreateDatabase(DATABASE);
const stack = await startCorralStack({
  database: DATABASE,
  sim: { tokensPerSecond: 0, ttftMs: 5, responseTokens: 16 },
  chatEnv: {
    RATE_LIMIT_PER_MINUTE: '0',
    READ_RATE_LIMIT_PER_MINUTE: '0',
    MAX_CONCURRENT_STREAMS: '0',
    GATEWAY_IDLE_TIMEOUT_MS: '600000',
  },
});
const db = new pg.Client({ connectionString: databaseUrl(DATABASE) });
try {
  await db.connect();
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  const user = await signIn(stack.auth.url, 'bench-replies@bench.test');
  const token = user.accessToken;

  // 1. Bytes written per reply, the model as fast as the sim goes.
  const nodes = async () =>
    new Set(
      (
        await db.query<{ node: string }>(
          `WITH own AS (SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'chat'),
                toast AS (SELECT reltoastrelid AS oid FROM own WHERE reltoastrelid <> 0
                          UNION SELECT i.indexrelid FROM pg_index i JOIN own ON i.indrelid = own.reltoastrelid)
           SELECT pg_relation_filenode(oid)::text AS node FROM (SELECT oid FROM own UNION SELECT oid FROM toast) r
            WHERE pg_relation_filenode(oid) IS NOT NULL`,
        )
      ).rows.map((r) => r.node),
    );
  const writes: Array<{ tokens: number; chars: number; walBytes: number; bytesPerChar: number }> = [];
  for (const tokens of SIZES) {
    await simConfig(stack.sim.url, { responseTokens: tokens, tokensPerSecond: 0 });
    const conversationId = await newConversation(stack.chat.url, token);
    const own = await nodes();
    const before = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    await (
      await reply(stack.chat.url, token, conversationId)
    ).done;
    const after = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const { rows } = await db.query<{ block_ref: string | null; record_length: number }>(
      'SELECT block_ref, record_length FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)',
      [before, after],
    );
    let walBytes = 0;
    for (const row of rows) {
      const node = /rel \d+\/\d+\/(\d+)/.exec(row.block_ref ?? '')?.[1];
      if (node && own.has(node)) walBytes += row.record_length;
    }
    const chars = (
      await db.query<{ n: number }>(
        `SELECT length(content) AS n FROM chat.messages WHERE conversation_id = $1 AND role = 'assistant'`,
        [conversationId],
      )
    ).rows[0]!.n;
    writes.push({ tokens, chars, walBytes, bytesPerChar: round(walBytes / chars) });
  }
  printTable(
    'WAL bytes written per reply (chat schema only)',
    ['tokens', 'characters', 'WAL bytes', 'bytes / character'],
    writes.map((w) => [w.tokens, w.chars, w.walBytes, w.bytesPerChar]),
  );

  // 2. Stop while three long replies stream at STREAM_RATE tokens/s each.
  await simConfig(stack.sim.url, { responseTokens: 150_000, tokensPerSecond: STREAM_RATE });
  const background = await Promise.all(
    [0, 1, 2].map(async () => reply(stack.chat.url, token, await newConversation(stack.chat.url, token))),
  );
  await Promise.all(background.map((r) => r.firstToken));
  const stopMs: number[] = [];
  for (let i = 0; i < STOPS; i += 1) {
    const conversationId = await newConversation(stack.chat.url, token);
    const victim = await reply(stack.chat.url, token, conversationId);
    await victim.firstToken;
    const started = performance.now();
    await jsonRequest('POST', `${stack.chat.url}/api/conversations/${conversationId}/stop`, {
      token,
      body: {},
    });
    stopMs.push(performance.now() - started);
    await victim.done;
  }
  const stop = summarize(stopMs);
  printTable(
    `POST …/stop while 3 replies stream at ${STREAM_RATE} tok/s (${STOPS} stops)`,
    ['p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [[round(stop.p50), round(stop.p90), round(stop.p99), round(stop.max)]],
  );
  const file = writeResults('reply-writes', { writes, stop, streamRate: STREAM_RATE, stops: STOPS });
  console.log(`results: ${file}`);
} finally {
  await db.end().catch(() => undefined);
  await stopAll(stack.all);
  await dropDatabase(DATABASE);
  process.exit(0);
}
