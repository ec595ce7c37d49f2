// The encrypted backup CronJob and the weekly verify CronJob: rendered, then their exact commands
// run with the repository's corral CLI against the local PostgreSQL, the rendered key as the Secret file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOne, type K8sObject, type Loose, renderChart, REPO_ROOT } from './helm.js';
import { type Container, podSpecOf } from './pods.js';

const KEY = 'chart-test-backup-key-0123456789';
const ENCRYPTED = [
  `backup.encryption.key=${KEY}`,
  'backup.verify.enabled=true',
  'metrics.prometheusRule.enabled=true',
];
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const DB = `corral_chart_verify_${process.pid}_${Date.now()}`;
const DB_URL = `postgresql://${PG.user}@${PG.host}:${PG.port}/${DB}`;

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...PG, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const containerOf = (objects: K8sObject[], name: string): Container =>
  podSpecOf(findOne(objects, 'CronJob', name))!.containers[0]!;

const envOf = (container: Container): Record<string, string> =>
  Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );

/** The container's `corral …` command run by the repository's CLI, with the cluster paths mapped to temp dirs. */
function runCorral(container: Container, paths: Record<string, string>, env: Record<string, string>) {
  expect(container.command).toEqual(['corral']);
  const args = (container.args ?? []).map((arg) => paths[arg] ?? arg);
  const rendered = envOf(container);
  const mapped = Object.fromEntries(
    Object.entries(rendered).map(([name, value]) => [
      name,
      Object.entries(paths).reduce((v, [from, to]) => v.replace(from, to), value),
    ]),
  );
  const result = spawnSync(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/cli.ts'), ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...mapped, ...env }, timeout: 120_000 },
  );
  if (result.error) throw result.error;
  return result;
}

describe('backup CronJobs with encryption and verification', () => {
  let objects: K8sObject[];
  let dir: string;

  beforeAll(async () => {
    objects = renderChart({ set: ENCRYPTED });
    dir = mkdtempSync(join(tmpdir(), 'corral-chart-backup-'));
    await withClient('postgres', (client) => client.query(`CREATE DATABASE ${DB}`));
    await withClient(DB, (client) =>
      client.query(`
        CREATE SCHEMA chat;
        CREATE TABLE chat._prisma_migrations (id text PRIMARY KEY, migration_name text NOT NULL,
          finished_at timestamptz, rolled_back_at timestamptz);
        INSERT INTO chat._prisma_migrations VALUES ('1', '20250101000000_init', now(), NULL);
        CREATE TABLE chat.conversations (id int PRIMARY KEY, title text NOT NULL);
        INSERT INTO chat.conversations SELECT g, 'conversation ' || g FROM generate_series(1, 40) g;`),
    );
  });

  afterAll(async () => {
    await withClient('postgres', (client) => client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the key in a Secret that outlives the release and mounts it as BACKUP_ENCRYPTION_KEY_FILE', () => {
    const secret = findOne(objects, 'Secret', 'corral-backup-key') as Loose;
    expect(secret.stringData['backup-encryption-key']).toBe(KEY);
    expect(secret.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    for (const name of ['corral-backup', 'corral-backup-verify']) {
      const spec = podSpecOf(findOne(objects, 'CronJob', name)) as Loose;
      expect(spec.volumes.find((v: Loose) => v.name === 'backup-key').secret.secretName).toBe(
        'corral-backup-key',
      );
      expect(envOf(spec.containers[0]).BACKUP_ENCRYPTION_KEY_FILE).toBe('/var/run/secrets/corral-backup/key');
    }
    const existing = renderChart({
      set: ['backup.encryption.existingSecret=my-key', 'backup.encryption.existingSecretKey=k'],
    });
    expect(existing.some((o) => o.kind === 'Secret' && o.metadata.name === 'corral-backup-key')).toBe(false);
    const volume = (podSpecOf(findOne(existing, 'CronJob', 'corral-backup')) as Loose).volumes.find(
      (v: Loose) => v.name === 'backup-key',
    );
    expect(volume.secret).toEqual({ secretName: 'my-key', items: [{ key: 'k', path: 'key' }] });
  });

  it('the rendered backup command writes an encrypted dump with a manifest, and the verify command passes it', () => {
    const backups = join(dir, 'backups');
    rmSync(backups, { recursive: true, force: true });
    writeFileSync(join(dir, 'key'), KEY); // as the Secret volume presents it
    const paths = { '/backups': backups, '/var/run/secrets/corral-backup/key': join(dir, 'key') };
    const backup = runCorral(containerOf(objects, 'corral-backup'), paths, { DATABASE_URL: DB_URL });
    expect(backup.status, backup.stderr).toBe(0);
    const files = readdirSync(backups);
    const dump = files.find((name) => name.endsWith('.dump.enc'));
    expect(dump, files.join(', ')).toBeDefined();
    expect(files).toContain(`${dump}.manifest.json`);
    expect(readFileSync(join(backups, dump!)).subarray(0, 8).toString()).toBe('CORRALBK');

    const verify = runCorral(containerOf(objects, 'corral-backup-verify'), paths, { DATABASE_URL: DB_URL });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('match the manifest');

    const noKey = runCorral(
      containerOf(objects, 'corral-backup-verify'),
      { ...paths, '/var/run/secrets/corral-backup/key': join(dir, 'missing') },
      { DATABASE_URL: DB_URL },
    );
    expect(noKey.status).toBe(1);
  }, 180_000);

  it('alerts when verification fails or no verification succeeded within maxAgeDays, and the backup alert ignores verify Jobs', () => {
    const rules = (findOne(objects, 'PrometheusRule', 'corral') as Loose).spec.groups[0].rules as {
      alert: string;
      expr: string;
    }[];
    const rule = (name: string) => rules.find((r) => r.alert === name)!;
    expect(rule('CorralBackupVerifyFailed').expr).toContain('job_name=~"corral-backup-verify-[0-9]+"');
    expect(rule('CorralNoVerifiedBackup').expr).toContain('cronjob="corral-backup-verify"');
    expect(rule('CorralNoVerifiedBackup').expr).toContain(`> ${8 * 86400}`);
    expect(rule('CorralBackupFailed').expr).toContain('job_name=~"corral-backup-[0-9]+"');
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
    for (const alert of ['CorralBackupVerifyFailed', 'CorralNoVerifiedBackup']) {
      expect(docs, `docs/operations.md has a section for ${alert}`).toMatch(new RegExp(`^#+ ${alert}$`, 'm'));
    }
  });

  it('without a key or verify, keeps the plain pg_dump CronJob and renders no verify CronJob', () => {
    const plain = renderChart();
    expect(containerOf(plain, 'corral-backup').name).toBe('pg-dump');
    expect(plain.some((o) => o.kind === 'CronJob' && o.metadata.name === 'corral-backup-verify')).toBe(false);
  });

  it('refuses a key shorter than 16 characters', () => {
    expect(() => renderChart({ set: ['backup.encryption.key=short'] })).toThrow(/at least 16 characters/);
  });
});
