// docs/operations.md's runbook steps that can run on this machine (backup, list, restore into a
// scratch database, signing-key and bootstrap-key rotation, a retention dry run), run exactly as
// the document writes them, in its order, against a database of their own on the test server.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runbookBlocks } from '../src/runbook-blocks.js';
import { REPO_ROOT } from './helm.js';

const SERVER = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const OPERATIONS = path.join(REPO_ROOT, 'docs/operations.md');
const STEP_MS = 180_000;
const suffix = randomBytes(4).toString('hex');
const DATABASE = `runbook_${suffix}`;
const SCRATCH = `runbook_${suffix}_scratch`;
const urlOf = (database: string) => {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  return url.toString();
};

let dir: string;
let env: NodeJS.ProcessEnv;
const outputs = new Map<string, string>();

async function query<Row extends Record<string, unknown>>(database: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: urlOf(database) });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

function sh(command: string, extra: NodeJS.ProcessEnv = {}) {
  const result = spawnSync('bash', ['-eo', 'pipefail', '-c', command], {
    cwd: REPO_ROOT,
    env: { ...env, ...extra },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

const blocks = runbookBlocks(readFileSync(OPERATIONS, 'utf8'));

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'corral-runbook-'));
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.query(`CREATE DATABASE ${SCRATCH}`);
  } finally {
    await admin.end();
  }
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dir,
    NO_COLOR: '1',
    DATABASE_URL: urlOf(DATABASE),
    SCRATCH_DATABASE_URL: urlOf(SCRATCH),
    BACKUP_FILE: path.join(dir, 'corral.dump'),
  };
  // What the section assumes has happened: migrations, the bootstrap admin, some history.
  const migrated = sh('pnpm corral migrate --database-url "$DATABASE_URL"');
  expect(migrated.code, migrated.out).toBe(0);
  const seeded = sh('pnpm corral seed-admin --database-url "$DATABASE_URL"', {
    BOOTSTRAP_ADMIN_EMAIL: 'admin@corral.local',
    BOOTSTRAP_ADMIN_PASSWORD: 'runbook-admin-password',
  });
  expect(seeded.code, seeded.out).toBe(0);
  await query(
    DATABASE,
    `INSERT INTO chat.conversations (id, user_id, title, model, updated_at)
     VALUES (gen_random_uuid(), 'u-old', 'old', 'llama3.2', now() - interval '200 days'),
            (gen_random_uuid(), 'u-new', 'new', 'llama3.2', now())`,
  );
  for (const block of blocks) {
    const result = sh(block.command);
    outputs.set(block.name, result.out);
    expect(result.code, `runbook step "${block.name}" failed:\n${block.command}\n${result.out}`).toBe(0);
  }
}, STEP_MS * 10);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

describe('docs/operations.md, run as written', () => {
  it('marks the steps that can run here', () => {
    expect(blocks.map((b) => b.name)).toEqual(
      expect.arrayContaining([
        'backup',
        'list',
        'restore',
        'rotate-signing-key',
        'rotate-bootstrap-key',
        'retention-dry-run',
      ]),
    );
  });

  it('backup and list: the dump holds the auth and chat tables', () => {
    expect(outputs.get('list')).toMatch(/TABLE DATA auth users/);
    expect(outputs.get('list')).toMatch(/TABLE DATA chat conversations/);
  });

  it('restore: the scratch database has the same accounts and conversations', async () => {
    const [users] = await query<{ n: string }>(SCRATCH, 'SELECT count(*) AS n FROM auth.users');
    const [conversations] = await query<{ n: string }>(
      SCRATCH,
      'SELECT count(*) AS n FROM chat.conversations',
    );
    expect(Number(users?.n)).toBe(1);
    expect(Number(conversations?.n)).toBe(2);
  });

  it('rotate-signing-key: the key it names is the one that signs now', async () => {
    const kid = /"kid":"([^"]+)"/.exec(outputs.get('rotate-signing-key') ?? '')?.[1];
    expect(kid).toBeDefined();
    const keys = await query<{ kid: string }>(
      DATABASE,
      'SELECT kid FROM auth.signing_keys ORDER BY created_at DESC LIMIT 1',
    );
    expect(keys[0]?.kid).toBe(kid);
  });

  it('rotate-bootstrap-key: prints a new key, which is the admin’s only live bootstrap key', async () => {
    const key = /"key":"(sk-corral-[^"]+)"/.exec(outputs.get('rotate-bootstrap-key') ?? '')?.[1];
    expect(key).toBeDefined();
    const live = await query<{ prefix: string }>(
      DATABASE,
      `SELECT k.prefix FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
       WHERE u.email = 'admin@corral.local' AND k.name = 'bootstrap' AND k.revoked_at IS NULL`,
    );
    expect(live).toHaveLength(1);
    expect(key!.startsWith(live[0]!.prefix)).toBe(true);
  });

  it('retention dry run: counts the old conversation and deletes nothing', async () => {
    expect(outputs.get('retention-dry-run')).toContain('dry run: 1 conversation(s)');
    const [left] = await query<{ n: string }>(DATABASE, 'SELECT count(*) AS n FROM chat.conversations');
    expect(Number(left?.n)).toBe(2);
  });
});
