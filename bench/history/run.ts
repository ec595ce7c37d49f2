/**
 * History at scale (after seed.ts): list (first page, a deep keyset page), search (?q=) and open a
 * conversation through chat-api's HTTP API, against the equivalent SQL sent straight to
 * PostgreSQL with pg. Requests run one after another: p50/p99 of N each.
 */
import pg from 'pg';
import { signIn, startCorralStack } from '../lib/corral.js';
import { databaseUrl } from '../lib/db.js';
import { jsonRequest } from '../lib/http.js';
import { sequential } from '../lib/load.js';
import { RUN_FROM, stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { printTable } from '../lib/table.js';
import { HISTORY_DATABASE, SEARCH_TERMS, USER_CONVERSATIONS } from './data.js';
import { seedHistory } from './seed.js';

const N = Number(process.env.BENCH_HISTORY_N ?? 200);
const WARMUP = 20;
/** A slow query must not turn the bench into minutes: each side stops after this long (≥ 20 samples). */
const MAX_SECONDS_PER_CASE = Number(process.env.BENCH_HISTORY_MAX_SECONDS ?? 10);
const budget = { maxSeconds: MAX_SECONDS_PER_CASE, minCount: 20 };
const PAGE = 20;
/** The deep page starts after this many conversations (page 451 of 20). */
const DEEP_OFFSET = 9000;
const TARGET_P99_MS = 50;

const encodeCursor = (updatedAt: Date, id: string) =>
  Buffer.from(JSON.stringify({ u: updatedAt.toISOString(), i: id })).toString('base64url');

// The SQL chat-api's Prisma queries send (read from pg_stat_activity), minus the column list, sent with pg directly.
const LIST_SQL = `SELECT * FROM chat.conversations WHERE user_id = $1 AND archived = false
  ORDER BY updated_at DESC, id DESC LIMIT ${PAGE + 1}`;
const LIST_AFTER_SQL = `SELECT * FROM chat.conversations WHERE user_id = $1 AND archived = false
  AND (updated_at < $2 OR (updated_at = $2 AND id < $3)) ORDER BY updated_at DESC, id DESC LIMIT ${PAGE + 1}`;
// Search: the statements chat-api's searchConversations sends (src/data/conversations.ts), for
// the default filters (not archived, no cursor): probe the newest conversations, then, only if the
// page is still short, the user's matching messages from the (user_id, content) trigram index.
const SEARCH_WINDOW = Math.max(100, (PAGE + 1) * 5);
const ORDER = 'ORDER BY c.updated_at DESC, c.id DESC';
const SEARCH_STEP1_SQL = `SELECT c.id FROM (SELECT c.id, c.title, c.updated_at FROM chat.conversations c
    WHERE c.user_id = $1 AND c.archived = false ${ORDER} LIMIT ${SEARCH_WINDOW}) c
  WHERE c.title ILIKE ('%' || $2 || '%')
     OR EXISTS (SELECT 1 FROM chat.messages m
                 WHERE m.conversation_id = c.id AND m.user_id = $1 AND m.content ILIKE ('%' || $2 || '%'))
  ${ORDER} LIMIT ${PAGE + 1}`;
const SEARCH_STEP2_SQL = (
  limit: number,
) => `WITH boundary AS (SELECT c.updated_at, c.id FROM chat.conversations c
    WHERE c.user_id = $1 AND c.archived = false ${ORDER} OFFSET ${SEARCH_WINDOW - 1} LIMIT 1),
  hits AS MATERIALIZED (SELECT DISTINCT m.conversation_id AS id FROM chat.messages m
    WHERE m.user_id = $1 AND m.content ILIKE ('%' || $2 || '%'))
  SELECT c.id, c.updated_at FROM boundary b, chat.conversations c
   WHERE c.user_id = $1 AND c.archived = false
     AND (c.updated_at < b.updated_at OR (c.updated_at = b.updated_at AND c.id < b.id))
     AND c.title ILIKE ('%' || $2 || '%')
  UNION
  SELECT c.id, c.updated_at FROM boundary b, hits h JOIN chat.conversations c ON c.id = h.id
   WHERE c.user_id = $1 AND c.archived = false
     AND (c.updated_at < b.updated_at OR (c.updated_at = b.updated_at AND c.id < b.id))
  ORDER BY updated_at DESC, id DESC LIMIT ${limit}`;
const SEARCH_ROWS_SQL = `SELECT * FROM chat.conversations WHERE id = ANY($1::uuid[]) AND user_id = $2
  ORDER BY updated_at DESC, id DESC`;

async function searchSql(db: pg.Client, userId: string, term: string): Promise<void> {
  const { rows: recent } = await db.query<{ id: string }>(SEARCH_STEP1_SQL, [userId, term]);
  const ids = recent.map((row) => row.id);
  if (ids.length < PAGE + 1) {
    const { rows: older } = await db.query<{ id: string }>(SEARCH_STEP2_SQL(PAGE + 1 - ids.length), [
      userId,
      term,
    ]);
    for (const row of older) if (!ids.includes(row.id)) ids.push(row.id);
  }
  if (ids.length > 0) await db.query(SEARCH_ROWS_SQL, [ids, userId]);
}
const CONVERSATION_SQL = `SELECT * FROM chat.conversations WHERE id = $1 AND user_id = $2 LIMIT 1`;
const MESSAGES_SQL = `SELECT * FROM chat.messages WHERE conversation_id = $1 ORDER BY created_at ASC, id ASC`;

interface Case {
  name: string;
  http: (i: number) => string;
  sql: (i: number) => Promise<unknown>;
}

async function main(): Promise<void> {
  const seed = await seedHistory();
  console.log(
    `history: ${N} sequential requests per case after ${WARMUP} warm-up, services from ${RUN_FROM}`,
  );
  const db = new pg.Client({ connectionString: databaseUrl(HISTORY_DATABASE) });
  await db.connect();
  const stack = await startCorralStack({
    database: HISTORY_DATABASE,
    sim: { tokensPerSecond: 0, ttftMs: 0, responseTokens: 4 },
    chatEnv: { RATE_LIMIT_PER_MINUTE: '0', READ_RATE_LIMIT_PER_MINUTE: '0' },
  });
  try {
    const user = await signIn(stack.auth.url, seed.email);
    if (user.id !== seed.userId)
      throw new Error('the seeded user id does not match auth; re-seed with --drop');
    const userId = user.id;
    const { rows: deep } = await db.query<{ updated_at: Date; id: string }>(
      `SELECT updated_at, id FROM chat.conversations WHERE user_id = $1 AND archived = false
        ORDER BY updated_at DESC, id DESC OFFSET $2 LIMIT 1`,
      [userId, DEEP_OFFSET - 1],
    );
    const deepRow = deep[0];
    if (!deepRow) throw new Error('seed incomplete: no deep page');
    const cursor = encodeCursor(deepRow.updated_at, deepRow.id);
    const { rows: ids } = await db.query<{ id: string }>(
      `SELECT id FROM chat.conversations WHERE user_id = $1 ORDER BY random() LIMIT 500`,
      [userId],
    );
    const conversationId = (i: number) => ids[i % ids.length]?.id as string;
    const { rows: shares } = await db.query<Record<string, string>>(
      `SELECT ${Object.keys(SEARCH_TERMS)
        .map((k) => `avg((content ILIKE '%${SEARCH_TERMS[k as keyof typeof SEARCH_TERMS]}%')::int) AS ${k}`)
        .join(', ')} FROM chat.messages`,
    );
    const { rows: counts } = await db.query<{ messages: string; conversations: string }>(
      `SELECT (SELECT count(*) FROM chat.messages) AS messages, (SELECT count(*) FROM chat.conversations WHERE user_id = $1) AS conversations`,
      [userId],
    );

    const cases: Case[] = [
      {
        name: 'list: first page',
        http: () => `/api/conversations?limit=${PAGE}`,
        sql: () => db.query(LIST_SQL, [userId]),
      },
      {
        name: `list: keyset page after ${DEEP_OFFSET}`,
        http: () => `/api/conversations?limit=${PAGE}&cursor=${cursor}`,
        sql: () => db.query(LIST_AFTER_SQL, [userId, deepRow.updated_at, deepRow.id]),
      },
      ...Object.entries(SEARCH_TERMS).map(([kind, term]) => ({
        name: `search ?q=${term} (${kind}, ${round(Number(shares[0]?.[kind] ?? 0) * 100)}% of messages)`,
        http: () => `/api/conversations?limit=${PAGE}&q=${term}`,
        sql: () => searchSql(db, userId, term),
      })),
      {
        name: 'open: conversation messages (30)',
        http: (i: number) => `/api/conversations/${conversationId(i)}/messages`,
        sql: async (i: number) => {
          await db.query(CONVERSATION_SQL, [conversationId(i), userId]);
          await db.query(MESSAGES_SQL, [conversationId(i)]);
        },
      },
    ];

    const rows = [];
    const json = [];
    for (const c of cases) {
      const viaHttp = (i: number) =>
        jsonRequest('GET', `${stack.chat.url}${c.http(i)}`, { token: user.accessToken }).then(
          () => undefined,
        );
      const viaSql = (i: number) => c.sql(i).then(() => undefined);
      await sequential(WARMUP, viaSql, { maxSeconds: 2 });
      await sequential(WARMUP, viaHttp, { maxSeconds: 2 });
      const sql = summarize(await sequential(N, viaSql, budget));
      const http = summarize(await sequential(N, viaHttp, budget));
      const ok = http.p99 <= TARGET_P99_MS;
      rows.push([
        c.name,
        `${sql.count}/${http.count}`,
        round(sql.p50),
        round(sql.p99),
        round(http.p50),
        round(http.p99),
        ok ? 'yes' : 'NO',
      ]);
      json.push({
        case: c.name,
        n: { sql: sql.count, http: http.count },
        sqlMs: sql,
        httpMs: http,
        targetP99Ms: TARGET_P99_MS,
        meetsTarget: ok,
      });
      console.log(`  ${c.name}: sql p99 ${round(sql.p99)} ms, http p99 ${round(http.p99)} ms`);
    }
    printTable(
      `History at scale: ${counts[0]?.messages} messages in the table, ${counts[0]?.conversations} conversations for the user; up to ${N} sequential requests or ${MAX_SECONDS_PER_CASE} s each (ms)`,
      ['case', 'n sql/http', 'SQL p50', 'SQL p99', 'chat-api p50', 'chat-api p99', `p99 ≤ ${TARGET_P99_MS}`],
      rows,
    );
    writeResults('history', {
      runFrom: RUN_FROM,
      scale: {
        messages: Number(counts[0]?.messages),
        userConversations: Number(counts[0]?.conversations),
        expectedUserConversations: USER_CONVERSATIONS,
        seedSeconds: seed.seconds,
      },
      results: json,
    });
  } finally {
    await db.end();
    await stopAll(stack.all);
  }
}

await main();
