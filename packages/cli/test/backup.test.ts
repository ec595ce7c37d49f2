// corral backup / restore / backup list / backup verify against the real PostgreSQL, with the
// services' real migrations applied, each test database created and dropped here.
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '@corral/db-migrate';
import { REPO_ROOT, sql, TEST_DATABASE_URL } from '@corral/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const KEY = 'test-backup-key-0123456789abcdef';

/** The service's newest migration (what the manifest must name as the schema's head). */
const newestMigration = (service: string): string =>
  readdirSync(path.join(REPO_ROOT, 'services', service, 'prisma', 'migrations'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .at(-1) ?? '';
const MARKER = `secret-title-${randomBytes(4).toString('hex')}`;
const databases: string[] = [];
let dir: string;

function urlOf(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function createDatabase(migrated: boolean): Promise<string> {
  const name = `corral_bk_${randomBytes(5).toString('hex')}`;
  await sql(`CREATE DATABASE ${name}`);
  databases.push(name);
  if (migrated) {
    for (const [schema, service] of [
      ['auth', 'auth'],
      ['chat', 'chat-api'],
    ] as const) {
      await migrate({
        databaseUrl: `${urlOf(name)}?schema=${schema}`,
        migrationsDir: path.join(REPO_ROOT, 'services', service, 'prisma', 'migrations'),
      });
    }
  }
  return name;
}

async function seedConversations(database: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await sql(
      `WITH c AS (INSERT INTO chat.conversations (id, user_id, title, model)
                  VALUES (gen_random_uuid(), 'user-1', $1, 'llama3.2') RETURNING id)
       INSERT INTO chat.messages (id, conversation_id, role, content)
       SELECT gen_random_uuid(), c.id, 'user', $2 FROM c`,
      [`${MARKER} ${i}`, `question ${i}`],
      urlOf(database),
    );
  }
}

const count = async (database: string, table: string): Promise<number> =>
  Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], urlOf(database)))[0]!.n);

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { CORRAL_HOME: path.join(dir, 'no-local-run'), ...env });

let source: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'corral-backup-test-'));
  source = await createDatabase(true);
  await seedConversations(source, 12);
}, 60_000);

afterAll(async () => {
  for (const name of databases) await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
});

describe('encrypted backups', () => {
  let file: string;

  beforeAll(async () => {
    file = path.join(dir, 'enc.dump.enc');
    const result = await cli(['backup', file, '--database-url', urlOf(source)], {
      BACKUP_ENCRYPTION_KEY: KEY,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/encrypted/);
  }, 60_000);

  it('holds no readable dump and writes a manifest of the snapshot it dumped', () => {
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 8).toString()).toBe('CORRALBK');
    expect(bytes.length).toBeGreaterThan(10_000); // a whole dump, not an empty one sealed
    expect(bytes.includes(Buffer.from('PGDMP'))).toBe(false);
    expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8'));
    expect(manifest.tables['chat.conversations']).toBe(12);
    expect(manifest.tables['chat.messages']).toBe(12);
    expect(manifest.migrations.chat.head).toBe(newestMigration('chat-api'));
    expect(manifest.migrations.auth.head).toBe(newestMigration('auth'));
    expect(manifest.encryption.cipher).toBe('aes-256-gcm');
    expect(manifest.corralVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('cannot be restored without the key or with a wrong one, and restores with it', async () => {
    const target = await createDatabase(false);
    const url = urlOf(target);
    const noKey = await cli(['restore', file, '--database-url', url]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/is encrypted: set BACKUP_ENCRYPTION_KEY/);
    const wrongKey = await cli(['restore', file, '--database-url', url], {
      BACKUP_ENCRYPTION_KEY: 'not-the-key-0123456789abcdef',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/wrong BACKUP_ENCRYPTION_KEY/);
    expect((await sql(`SELECT 1 FROM pg_namespace WHERE nspname = 'chat'`, [], url)).length).toBe(0);

    const keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, `${KEY}\n`);
    const restored = await cli(['restore', file, '--database-url', url], {
      BACKUP_ENCRYPTION_KEY_FILE: keyFile,
    });
    expect(restored.code, restored.stderr).toBe(0);
    const titles = await sql<{ title: string }>(
      'SELECT title FROM chat.conversations ORDER BY title',
      [],
      url,
    );
    expect(titles.map((row) => row.title)).toEqual(
      Array.from({ length: 12 }, (_, i) => `${MARKER} ${i}`).sort(),
    );
  }, 60_000);

  it('refuses a tampered dump and leaves the database as it was', async () => {
    const target = await createDatabase(true);
    await seedConversations(target, 3);
    const tampered = path.join(dir, 'tampered.dump.enc');
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length * 0.6);
    bytes[at] = bytes[at]! ^ 0x40;
    writeFileSync(tampered, bytes);
    const result = await cli(['restore', tampered, '--database-url', urlOf(target)], {
      BACKUP_ENCRYPTION_KEY: KEY,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/changed or cut short|does not authenticate/);
    expect(await count(target, 'chat.conversations')).toBe(3);
  }, 60_000);

  it('verify restores it into a scratch database, finds it matches, and drops the scratch database', async () => {
    const result = await cli(['backup', 'verify', file, '--json', '--database-url', urlOf(source)], {
      BACKUP_ENCRYPTION_KEY: KEY,
    });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, differences: [] });
    expect(await sql('SELECT 1 FROM pg_database WHERE datname = $1', [report.scratchDatabase])).toEqual([]);
  }, 60_000);
});

describe('backup verify', () => {
  it('fails on a dump whose table was truncated after its manifest was written', async () => {
    const db = await createDatabase(true);
    await seedConversations(db, 5);
    const good = path.join(dir, 'good.dump');
    expect((await cli(['backup', good, '--database-url', urlOf(db)])).code).toBe(0);
    const first = await cli(['backup', 'verify', good, '--database-url', urlOf(db)]);
    expect(first.code, first.stderr).toBe(0);

    // The same database with one table emptied, dumped, and put where the good dump was.
    // CASCADE: tables that reference messages (their chunks) go with it, as a careless TRUNCATE would.
    await sql('TRUNCATE chat.messages CASCADE', [], urlOf(db));
    const later = path.join(dir, 'later.dump');
    expect((await cli(['backup', later, '--database-url', urlOf(db)])).code).toBe(0);
    copyFileSync(later, good);

    const result = await cli(['backup', 'verify', good, '--database-url', urlOf(db)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FAILED verification');
    expect(result.stderr).toContain('chat.messages: manifest 5 rows, restored 0');
    expect(result.stderr).not.toContain('chat.conversations:');
  }, 90_000);
});

describe('backup list', () => {
  it('lists newest first with size, encryption and manifest, and --keep prunes the oldest', async () => {
    const listDir = path.join(dir, 'list');
    const url = urlOf(source);
    // Names sort the other way round from the order they are made in.
    for (const [name, env] of [
      ['c.dump', {}],
      ['b.dump.enc', { BACKUP_ENCRYPTION_KEY: KEY }],
      ['a.dump', {}],
    ] as const) {
      const result = await cli(['backup', path.join(listDir, name), '--database-url', url], env);
      expect(result.code, result.stderr).toBe(0);
    }
    const legacy = path.join(listDir, 'corral-20240101T000000Z.dump'); // the old CronJob's, no manifest
    writeFileSync(legacy, 'PGDMP');
    utimesSync(legacy, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));

    const listed = await cli(['backup', 'list', listDir, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = JSON.parse(listed.stdout) as {
      name: string;
      encrypted: boolean;
      manifest: boolean;
      bytes: number;
    }[];
    expect(entries.map((entry) => entry.name)).toEqual([
      'a.dump',
      'b.dump.enc',
      'c.dump',
      'corral-20240101T000000Z.dump',
    ]);
    expect(entries.map((entry) => entry.encrypted)).toEqual([false, true, false, false]);
    expect(entries.map((entry) => entry.manifest)).toEqual([true, true, true, false]);
    expect(entries[0]!.bytes).toBeGreaterThan(1000);

    const text = await cli(['backup', 'list'], { BACKUP_DIR: listDir });
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/created \(UTC\)\s+age\s+size\s+encrypted\s+manifest\s+file/);
    expect(lines[1]).toMatch(/ no\s+yes\s+a\.dump$/);
    expect(lines[2]).toMatch(/ yes\s+yes\s+b\.dump\.enc$/);

    const pruned = await cli(['backup', '--dir', listDir, '--keep', '2', '--database-url', url]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const after = JSON.parse((await cli(['backup', 'list', listDir, '--json'])).stdout) as { name: string }[];
    expect(after.map((entry) => entry.name)).toEqual([
      expect.stringMatching(/^corral-backup-.*\.dump$/),
      'a.dump',
    ]);
    expect(existsSync(path.join(listDir, 'c.dump.manifest.json'))).toBe(false);
  }, 120_000);
});
