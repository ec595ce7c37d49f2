import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createInspector, DATABASE_URL, FIXTURES, uniqueSchema } from './helpers.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');
const db = createInspector();
let schema: string;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process (TypeScript source through tsx, so no build is needed). */
function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, DATABASE_URL: undefined, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectOneLineError(run: CliRun): void {
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^corral-migrate: /);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

beforeEach(() => {
  schema = uniqueSchema();
});
afterEach(() => db.dropSchema(schema));
afterAll(() => db.end());

describe('corral-migrate deploy', () => {
  it('applies migrations, prints each one and exits 0; a second run says nothing is pending', async () => {
    const args = ['deploy', '--schema', schema, '--dir', path.join(FIXTURES, 'basic')];

    const first = await runCli(args, { DATABASE_URL });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Applied migration `20240101000000_init`');
    expect(first.stdout).toContain('Applied migration `20240103000000_add_role`');
    expect(first.stdout).toContain(`3 migration(s) applied to schema "${schema}"`);

    const second = await runCli([...args, '--database-url', DATABASE_URL]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('No pending migrations to apply');
    expect(await db.rows(schema)).toHaveLength(3);
  });

  it('exits 1 with a one-line error naming the failed migration, then refuses the next deploy', async () => {
    const args = [
      'deploy',
      '--schema',
      schema,
      '--dir',
      path.join(FIXTURES, 'failing'),
      '--database-url',
      DATABASE_URL,
    ];

    const failed = await runCli(args);
    expect(failed.code).toBe(1);
    expectOneLineError(failed);
    expect(failed.stderr).toContain('Migration `20240102000000_broken` failed to apply');
    expect(failed.stderr).toContain('relation "Ghost" does not exist');

    const refused = await runCli(args);
    expect(refused.code).toBe(1);
    expectOneLineError(refused);
    expect(refused.stderr).toContain('20240102000000_broken');
    expect(refused.stderr).toContain('P3009');
  });

  it('exits 1 with a readable message when the database cannot be reached', async () => {
    const run = await runCli([
      'deploy',
      '--schema',
      schema,
      '--dir',
      path.join(FIXTURES, 'basic'),
      '--database-url',
      'postgresql://postgres@127.0.0.1:1/test',
    ]);
    expect(run.code).toBe(1);
    expectOneLineError(run);
    expect(run.stderr).toContain('Could not connect to the database');
  });

  it('exits 2 with a one-line usage error when no database URL is given', async () => {
    const run = await runCli(['deploy', '--schema', schema, '--dir', path.join(FIXTURES, 'basic')]);
    expect(run.code).toBe(2);
    expectOneLineError(run);
    expect(run.stderr).toContain('DATABASE_URL');
  });
});

describe('corral-migrate status', () => {
  it('exits 1 and lists pending migrations, then 0 once everything is applied', async () => {
    const args = ['--schema', schema, '--dir', path.join(FIXTURES, 'basic'), '--database-url', DATABASE_URL];

    const pending = await runCli(['status', ...args]);
    expect(pending.code).toBe(1);
    expect(pending.stdout).toContain('pending   20240102000000_add_posts');

    expect((await runCli(['deploy', ...args])).code).toBe(0);
    const upToDate = await runCli(['status', ...args]);
    expect(upToDate.code).toBe(0);
    expect(upToDate.stdout).toContain('3 applied, 0 pending');
    expect(upToDate.stdout).toContain('up to date');
  });
});

describe('corral-migrate resolve', () => {
  it('marks a failed migration rolled back so a fixed deploy can run', async () => {
    const args = [
      '--schema',
      schema,
      '--dir',
      path.join(FIXTURES, 'failing'),
      '--database-url',
      DATABASE_URL,
    ];
    expect((await runCli(['deploy', ...args])).code).toBe(1);

    const resolved = await runCli(['resolve', '--rolled-back', '20240102000000_broken', ...args]);
    expect(resolved.code).toBe(0);
    const rows = await db.rows(schema);
    expect(rows.find((r) => r.migration_name === '20240102000000_broken')?.rolled_back_at).toBeInstanceOf(
      Date,
    );
  });
});
