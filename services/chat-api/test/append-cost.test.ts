import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createConversation, openSse, type TestChat, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({ users: ['user'] });
let chat: TestChat;

beforeAll(async () => {
  chat = stack.chat;
  // Reads the write-ahead log by relation: exactly what this schema's tables cost, whatever else the
  // shared server is doing meanwhile.
  await chat.ctx.db.pool.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
});

/** File nodes of every relation of the schema (tables, indexes, their TOAST tables and indexes). */
async function schemaFileNodes(): Promise<Set<string>> {
  const { rows } = await chat.ctx.db.pool.query<{ node: string }>(
    `WITH own AS (
       SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1
     ), toast AS (
       SELECT reltoastrelid AS oid FROM own WHERE reltoastrelid <> 0
       UNION SELECT i.indexrelid FROM pg_index i JOIN own ON i.indrelid = own.reltoastrelid
     )
     SELECT pg_relation_filenode(oid)::text AS node FROM (SELECT oid FROM own UNION SELECT oid FROM toast) r
      WHERE pg_relation_filenode(oid) IS NOT NULL`,
    [chat.schema],
  );
  return new Set(rows.map((r) => r.node));
}

/** WAL bytes written for this schema's relations while one reply of `tokens` tokens is generated and saved. */
async function walBytesForReply(tokens: number): Promise<{ bytes: number; chars: number }> {
  stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: tokens });
  const conversation = await createConversation(chat, stack.user);
  const nodes = await schemaFileNodes();
  const before = (await chat.ctx.db.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
    .rows[0]!.lsn;
  const events = await (
    await openSse(`${chat.url}/api/conversations/${conversation.id}/messages`, stack.user.token, {
      content: 'Write at length',
    })
  ).rest();
  expect(events.at(-1)?.event).toBe('done');
  const after = (await chat.ctx.db.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
    .rows[0]!.lsn;
  const { rows } = await chat.ctx.db.pool.query<{ block_ref: string | null; record_length: number }>(
    'SELECT block_ref, record_length FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)',
    [before, after],
  );
  let bytes = 0;
  for (const row of rows) {
    const node = /rel \d+\/\d+\/(\d+)/.exec(row.block_ref ?? '')?.[1];
    if (node && nodes.has(node)) bytes += row.record_length;
  }
  const messages = await request(chat.url)
    .get(`/api/conversations/${conversation.id}/messages`)
    .set(bearer(stack.user.token))
    .expect(200);
  const reply = (messages.body as { items: Array<{ content: string; status: string }> }).items.at(-1)!;
  expect(reply.status).toBe('complete');
  return { bytes, chars: reply.content.length };
}

describe('writing a long reply', () => {
  it('costs write-ahead log in proportion to its length (each batch writes only its new text)', async () => {
    const small = await walBytesForReply(2000);
    const large = await walBytesForReply(8000);
    console.log(
      `WAL bytes: ${small.bytes} for ${small.chars} chars; ${large.bytes} for ${large.chars} chars`,
    );
    expect(large.chars).toBeGreaterThan(3 * small.chars);
    // Linear: four times the text, about four times the bytes. Rewriting the whole text per batch
    // (quadratic) costs about sixteen times.
    expect(large.bytes / small.bytes).toBeLessThan(((large.chars / small.chars) * 3) / 2);
    // A few bytes per character in all (each chunk once, the final text once), not tens.
    expect(large.bytes).toBeLessThan(4 * large.chars);
  });
});
