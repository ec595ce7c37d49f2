import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOne, renderChart, REPO_ROOT } from './helm.js';
import { podSpecOf } from './pods.js';

// The local PostgreSQL the test suites use (CI: a service container; here: trust auth on loopback).
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const suffix = `${process.pid}_${Date.now()}`;
const SOURCE_DB = `corral_backup_src_${suffix}`;
const RESTORED_DB = `corral_backup_dst_${suffix}`;
const urlOf = (db: string) => `postgresql://${PG.user}@${PG.host}:${PG.port}/${db}`;

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...PG, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The script the rendered CronJob runs, exactly as Kubernetes would pass it to `sh -ec`. */
function backupScript(): { command: string[]; script: string; env: Record<string, string> } {
  const cronJob = findOne(renderChart(), 'CronJob', 'corral-backup');
  const container = podSpecOf(cronJob)!.containers[0]!;
  const env = Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );
  return { command: container.command ?? [], script: container.args?.[0] ?? '', env };
}

/** The restore command from the fenced block after the marker in docs/operations.md. */
function documentedRestoreCommand(): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
  const match = /<!-- restore-command[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error('docs/operations.md has no ```sh block after <!-- restore-command -->');
  return match[1].trim();
}

function run(command: string[], env: Record<string, string>) {
  const [file, ...args] = command;
  const result = spawnSync(file!, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result;
}

const CONVERSATIONS = `
  SELECT c.id, c.title, c.pinned, m.position, m.role, m.content, m.tokens
  FROM chat.conversations c JOIN chat.messages m ON m.conversation_id = c.id
  ORDER BY c.id, m.position`;

describe('backup CronJob and documented restore', () => {
  let backupDir: string;

  beforeAll(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'corral-backup-'));
    await withClient('postgres', async (client) => {
      await client.query(`CREATE DATABASE ${SOURCE_DB}`);
      await client.query(`CREATE DATABASE ${RESTORED_DB}`);
    });
    await withClient(SOURCE_DB, async (client) => {
      await client.query(`
        CREATE SCHEMA chat;
        CREATE TABLE chat.conversations (
          id uuid PRIMARY KEY, owner_id uuid NOT NULL, title text NOT NULL, pinned boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE chat.messages (
          conversation_id uuid NOT NULL REFERENCES chat.conversations(id) ON DELETE CASCADE,
          position int NOT NULL, role text NOT NULL CHECK (role IN ('system','user','assistant')),
          content text NOT NULL, tokens int, PRIMARY KEY (conversation_id, position));
        CREATE INDEX messages_content_idx ON chat.messages USING gin (to_tsvector('simple', content));`);
      for (let i = 0; i < 25; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        await client.query(
          'INSERT INTO chat.conversations (id, owner_id, title, pinned) VALUES ($1, $2, $3, $4)',
          [id, '11111111-1111-4111-8111-111111111111', `Conversation ${i} — résumé 🚀`, i % 5 === 0],
        );
        await client.query(
          `INSERT INTO chat.messages (conversation_id, position, role, content, tokens) VALUES
             ($1, 0, 'user', $2, 12), ($1, 1, 'assistant', $3, 240)`,
          [
            id,
            `Question ${i}: explain "quotes", back\\slashes and\nnew lines`,
            `Answer ${i}\n\`\`\`ts\nconst x = ${i};\n\`\`\``,
          ],
        );
      }
    });
  });

  afterAll(async () => {
    await withClient('postgres', async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${SOURCE_DB} WITH (FORCE)`);
      await client.query(`DROP DATABASE IF EXISTS ${RESTORED_DB} WITH (FORCE)`);
    });
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('dumps with the CronJob script, prunes to backup.keep, and the documented pg_restore brings every row back', async () => {
    const { command, script, env } = backupScript();
    expect(command).toEqual(['/bin/sh', '-ec']);
    expect(script).toContain('pg_dump -Fc');
    expect(env.BACKUP_KEEP).toBe('7');

    // Older dumps already on the volume: after the run only the newest BACKUP_KEEP remain.
    const old = Array.from({ length: 8 }, (_, i) => `corral-2024010${i % 9}T0${i}0000Z.dump`);
    for (const name of old) writeFileSync(join(backupDir, name), 'old');

    // The CronJob's script unchanged; only the env points it at the local server and a temp dir.
    const dump = run(['/bin/sh', '-ec', script], {
      ...env,
      BACKUP_DIR: backupDir,
      BACKUP_DATABASE_URL: urlOf(SOURCE_DB),
    });
    expect(dump.status, dump.stderr).toBe(0);
    const files = readdirSync(backupDir).sort();
    expect(files).toHaveLength(7);
    expect(files.some((f) => f.endsWith('.partial'))).toBe(false);
    const newest = files[files.length - 1]!;
    expect(newest).toMatch(/^corral-\d{8}T\d{6}Z\.dump$/);
    expect(old.includes(newest)).toBe(false);
    expect(readFileSync(join(backupDir, newest)).subarray(0, 5).toString()).toBe('PGDMP'); // custom format

    const restore = run(['/bin/sh', '-ec', documentedRestoreCommand()], {
      RESTORE_DATABASE_URL: urlOf(RESTORED_DB),
      BACKUP_FILE: join(backupDir, newest),
    });
    expect(restore.status, restore.stderr).toBe(0);

    const original = await withClient(SOURCE_DB, (c) => c.query(CONVERSATIONS));
    const restored = await withClient(RESTORED_DB, (c) => c.query(CONVERSATIONS));
    expect(original.rows).toHaveLength(50);
    expect(restored.rows).toEqual(original.rows);

    // Restoring again over live data (the documented case) is just as clean.
    const again = run(['/bin/sh', '-ec', documentedRestoreCommand()], {
      RESTORE_DATABASE_URL: urlOf(RESTORED_DB),
      BACKUP_FILE: join(backupDir, newest),
    });
    expect(again.status, again.stderr).toBe(0);
    const search = await withClient(RESTORED_DB, (c) =>
      c.query(
        `SELECT count(*)::int AS n FROM chat.messages WHERE to_tsvector('simple', content) @@ to_tsquery('simple', 'answer')`,
      ),
    );
    expect(search.rows[0].n).toBe(25);
  });
});
