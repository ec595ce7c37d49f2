/**
 * Seeds chat-api's schema for the history bench: one user with 10,000 conversations and a table
 * of 1,000,000 messages. Idempotent and resumable: batches are committed with their progress
 * marker, a finished seed is skipped, `--drop` starts again from an empty database.
 *
 * Usage: node --conditions=corral-source --import tsx history/seed.ts [--drop]
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { signIn, startCorralStack } from '../lib/corral.js';
import { createDatabase, databaseExists, databaseUrl, dropDatabase } from '../lib/db.js';
import { REPO_ROOT } from '../lib/paths.js';
import { stopAll } from '../lib/processes.js';
import { migrate } from '../lib/workspace.js';
import {
  HISTORY_DATABASE,
  HISTORY_USER_EMAIL,
  OTHER_CONVERSATIONS,
  OTHER_MESSAGES_PER_CONVERSATION,
  OTHER_USERS,
  SEARCH_TERMS,
  TOTAL_MESSAGES,
  USER_CONVERSATIONS,
  USER_MESSAGES_PER_CONVERSATION,
} from './data.js';

const BATCH_CONVERSATIONS = 400;
const DAY_MS = 86_400_000;

interface SeedState {
  userId: string;
  email: string;
  batchesDone: number;
  indexes: string[];
  complete: boolean;
  seconds?: number;
}

/** Small fast deterministic PRNG, so a batch generates the same text whenever it runs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tas',
  'vo',
  'dri',
  'sel',
  'pun',
  'ga',
  'bor',
  'ne',
  'qui',
  'fa',
  'zel',
  'to',
  'ham',
  'wy',
];
/** 3,000 made-up words; SEARCH_TERMS.common is placed among the most frequent. */
const WORDS: string[] = (() => {
  const random = mulberry32(42);
  const words = new Set<string>();
  while (words.size < 3000) {
    const n = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < n; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  const list = [...words];
  list[3] = SEARCH_TERMS.common;
  return list;
})();

function sentence(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    // Skewed towards the front of the list, like word frequencies in real text.
    out.push(WORDS[Math.floor(WORDS.length * random() ** 3)] as string);
    if (random() < 0.005) out.push(SEARCH_TERMS.medium);
  }
  if (random() < 0.00002 * words) out.push(SEARCH_TERMS.rare);
  return out.join(' ');
}

interface Batch {
  index: number;
  userId: string;
  conversations: number;
  messagesPerConversation: number;
  /** Position of the batch's first conversation among its owner's conversations. */
  offset: number;
}

function plan(userId: string): Batch[] {
  const batches: Batch[] = [];
  for (let offset = 0; offset < USER_CONVERSATIONS; offset += BATCH_CONVERSATIONS) {
    batches.push({
      index: batches.length,
      userId,
      conversations: Math.min(BATCH_CONVERSATIONS, USER_CONVERSATIONS - offset),
      messagesPerConversation: USER_MESSAGES_PER_CONVERSATION,
      offset,
    });
  }
  for (let offset = 0; offset < OTHER_CONVERSATIONS; offset += BATCH_CONVERSATIONS) {
    batches.push({
      index: batches.length,
      userId: 'other',
      conversations: Math.min(BATCH_CONVERSATIONS, OTHER_CONVERSATIONS - offset),
      messagesPerConversation: OTHER_MESSAGES_PER_CONVERSATION,
      offset,
    });
  }
  return batches;
}

async function insertBatch(client: pg.PoolClient, batch: Batch, now: number): Promise<void> {
  const random = mulberry32(1000 + batch.index);
  const c = {
    id: [] as string[],
    user: [] as string[],
    title: [] as string[],
    current: [] as string[],
    created: [] as string[],
    updated: [] as string[],
    pinned: [] as boolean[],
  };
  const m = {
    id: [] as string[],
    conv: [] as string[],
    parent: [] as (string | null)[],
    role: [] as string[],
    content: [] as string[],
    model: [] as (string | null)[],
    created: [] as string[],
    prompt: [] as (number | null)[],
    completion: [] as (number | null)[],
  };
  for (let i = 0; i < batch.conversations; i++) {
    const conversationId = randomUUID();
    const owner = batch.userId === 'other' ? `other-user-${(batch.offset + i) % OTHER_USERS}` : batch.userId;
    // Spread over the last year; later positions are older, so conversation 0 is the newest.
    const updated =
      now -
      Math.floor(((batch.offset + i) / USER_CONVERSATIONS) * 365 * DAY_MS) -
      Math.floor(random() * 60_000);
    const created = updated - batch.messagesPerConversation * 60_000;
    let parent: string | null = null;
    for (let k = 0; k < batch.messagesPerConversation; k++) {
      const id = randomUUID();
      const assistant = k % 2 === 1;
      m.id.push(id);
      m.conv.push(conversationId);
      m.parent.push(parent);
      m.role.push(assistant ? 'assistant' : 'user');
      m.content.push(
        sentence(random, assistant ? 20 + Math.floor(random() * 60) : 5 + Math.floor(random() * 20)),
      );
      m.model.push(assistant ? 'llama3.2' : null);
      m.created.push(new Date(created + k * 60_000).toISOString());
      m.prompt.push(assistant ? 40 + k * 30 : null);
      m.completion.push(assistant ? 60 : null);
      parent = id;
    }
    c.id.push(conversationId);
    c.user.push(owner);
    c.title.push(sentence(random, 2 + Math.floor(random() * 4)));
    c.current.push(parent as string);
    c.created.push(new Date(created).toISOString());
    c.updated.push(new Date(updated).toISOString());
    c.pinned.push(random() < 0.01);
  }
  await client.query(
    `INSERT INTO conversations (id, user_id, title, title_source, model, current_message_id, pinned, created_at, updated_at)
     SELECT id, user_id, title, 'generated', 'llama3.2', current_message_id, pinned, created_at, updated_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::bool[], $6::timestamptz[], $7::timestamptz[])
         AS t(id, user_id, title, current_message_id, pinned, created_at, updated_at)`,
    [c.id, c.user, c.title, c.current, c.pinned, c.created, c.updated],
  );
  await client.query(
    `INSERT INTO messages (id, conversation_id, parent_id, role, content, model, status, prompt_tokens, completion_tokens, created_at, updated_at)
     SELECT id, conversation_id, parent_id, role::"MessageRole", content, model, 'complete', prompt_tokens, completion_tokens, created_at, created_at
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::timestamptz[])
         AS t(id, conversation_id, parent_id, role, content, model, prompt_tokens, completion_tokens, created_at)`,
    [m.id, m.conv, m.parent, m.role, m.content, m.model, m.prompt, m.completion, m.created],
  );
}

async function readState(pool: pg.Pool): Promise<SeedState | undefined> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS public.bench_seed (name text PRIMARY KEY, state jsonb NOT NULL)`,
  );
  const { rows } = await pool.query<{ state: SeedState }>(
    `SELECT state FROM public.bench_seed WHERE name = 'history'`,
  );
  return rows[0]?.state;
}

const saveState = (db: pg.Pool | pg.PoolClient, state: SeedState) =>
  db.query(
    `INSERT INTO public.bench_seed (name, state) VALUES ('history', $1)
     ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state`,
    [JSON.stringify(state)],
  );

/** The user's auth id: auth runs against the same database (schema auth) so run.ts can sign in. */
async function registerUser(): Promise<string> {
  const stack = await startCorralStack({
    database: HISTORY_DATABASE,
    sim: { tokensPerSecond: 0, ttftMs: 0, responseTokens: 4 },
  });
  try {
    return (await signIn(stack.auth.url, HISTORY_USER_EMAIL)).id;
  } finally {
    await stopAll(stack.all);
  }
}

export async function seedHistory(options: { drop?: boolean } = {}): Promise<SeedState> {
  const started = performance.now();
  let earlierSeconds = 0;
  const elapsed = () => earlierSeconds + Math.round((performance.now() - started) / 1000);
  if (options.drop) await dropDatabase(HISTORY_DATABASE);
  if (!(await databaseExists(HISTORY_DATABASE))) await createDatabase(HISTORY_DATABASE);
  const pool = new pg.Pool({ connectionString: databaseUrl(HISTORY_DATABASE), max: 2 });
  try {
    let state = await readState(pool);
    if (state?.complete) {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM chat.messages');
      console.log(
        `history seed: already done (${rows[0]?.n} messages, seeded in ${state.seconds} s); --drop to redo`,
      );
      return state;
    }
    // Starting the stack migrates both schemas (AUTO_MIGRATE) and registers the user.
    earlierSeconds = state?.seconds ?? 0;
    const userId = state?.userId ?? (await registerUser());
    await migrate({
      pool,
      schema: 'chat',
      migrationsDir: path.join(REPO_ROOT, 'services/chat-api/prisma/migrations'),
    });
    if (!state) {
      // Secondary indexes are built once at the end: far faster than maintaining them per row.
      const { rows } = await pool.query<{ indexname: string; indexdef: string }>(
        `SELECT i.indexname, i.indexdef FROM pg_indexes i
          WHERE i.schemaname = 'chat' AND i.tablename IN ('conversations', 'messages')
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
      );
      state = {
        userId,
        email: HISTORY_USER_EMAIL,
        batchesDone: 0,
        indexes: rows.map((r) => r.indexdef),
        complete: false,
      };
      await saveState(pool, state);
      for (const row of rows) await pool.query(`DROP INDEX IF EXISTS chat."${row.indexname}"`);
    }
    const batches = plan(userId);
    const now = Date.parse('2026-11-01T00:00:00Z');
    const client = await pool.connect();
    try {
      await client.query('SET search_path = chat, public');
      for (const batch of batches.slice(state.batchesDone)) {
        await client.query('BEGIN');
        await insertBatch(client, batch, now);
        state = { ...state, batchesDone: batch.index + 1, seconds: elapsed() };
        await saveState(client, state);
        await client.query('COMMIT');
        if (batch.index % 10 === 9 || batch.index === batches.length - 1) {
          console.log(`  batch ${batch.index + 1}/${batches.length} (${elapsed()} s)`);
        }
      }
      console.log(`  building ${state.indexes.length} indexes…`);
      await client.query(`SET maintenance_work_mem = '1GB'`);
      for (const definition of state.indexes) {
        await client.query(definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '));
      }
      await client.query('ANALYZE conversations');
      await client.query('ANALYZE messages');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM chat.messages');
    if (Number(rows[0]?.n) !== TOTAL_MESSAGES)
      throw new Error(`expected ${TOTAL_MESSAGES} messages, found ${rows[0]?.n}`);
    const seconds = elapsed();
    state = { ...state, complete: true, seconds };
    await saveState(pool, state);
    console.log(
      `history seed: ${rows[0]?.n} messages, ${USER_CONVERSATIONS} conversations for the user, in ${seconds} s (all runs of the seed)`,
    );
    return state;
  } finally {
    await pool.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await seedHistory({ drop: process.argv.includes('--drop') });
}
