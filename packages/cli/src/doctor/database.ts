// PostgreSQL checks from the server's own views: connection headroom, long-running queries,
// dead-tuple bloat, and the age of auth's active signing key against the rotation policy.
import pg from 'pg';
import { errorMessage } from '../errors.js';
import { type CheckResult, fail, pass, warnAt } from './report.js';

/** Connections each service's replicas may open: replicas × pool size. */
export interface PoolBudget {
  service: string;
  replicas: number;
  poolMax: number;
}

/** Connections kept for migrations, backups, the doctor and an operator's psql. */
const OPERATOR_RESERVE = 5;
const LONG_QUERY_SECONDS = 300;
const BLOAT_RATIO = 0.2;
const BLOAT_MIN_DEAD = 10_000;
const DAY_MS = 86_400_000;
/** Without an automatic policy, a key older than this is worth rotating by hand. */
const MANUAL_ROTATION_DAYS = 90;

export interface DatabaseCheckOptions {
  budget: PoolBudget[];
  /** SIGNING_KEY_ROTATION_DAYS as auth runs with it; 0 = manual rotation only. */
  rotationDays: number;
  now?: number;
}

export function headroom(maxConnections: number, reserved: number, budget: PoolBudget[]): CheckResult {
  const check = 'postgres connections';
  const needed = budget.reduce((sum, entry) => sum + entry.replicas * entry.poolMax, 0) + OPERATOR_RESERVE;
  const usable = maxConnections - reserved;
  const parts = budget.map((entry) => `${entry.service} ${entry.replicas}×${entry.poolMax}`).join(' + ');
  const detail = `need ${needed} (${parts} + ${OPERATOR_RESERVE} for jobs), max_connections ${maxConnections} (${reserved} reserved)`;
  const fix = `raise max_connections to at least ${needed + reserved + 10} (postgresql.conf / the chart's postgresql.maxConnections), or lower replicas or DATABASE_POOL_MAX`;
  if (needed > usable) return fail(check, detail, fix);
  if (needed > usable * 0.8) return warnAt(check, `${detail}: less than 20% headroom`, fix);
  return pass(check, detail);
}

export async function checkDatabase(url: string, options: DatabaseCheckOptions): Promise<CheckResult[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    return [
      fail(
        'postgres reachable',
        errorMessage(error),
        'check DATABASE_URL, the PostgreSQL pod/service and NetworkPolicy',
      ),
    ];
  }
  try {
    const results: CheckResult[] = [
      pass(
        'postgres reachable',
        (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v.split(
          ' ',
        )[0]!,
      ),
    ];
    const settings = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'superuser_reserved_connections')`,
    );
    const setting = (name: string) => Number(settings.rows.find((row) => row.name === name)?.setting ?? 0);
    results.push(
      headroom(setting('max_connections'), setting('superuser_reserved_connections'), options.budget),
    );

    const long = await client.query<{ pid: number; state: string; seconds: number }>(
      `SELECT pid, state, extract(epoch FROM now() - coalesce(xact_start, query_start))::int AS seconds
         FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'
          AND now() - coalesce(xact_start, query_start) > make_interval(secs => $1)
        ORDER BY seconds DESC`,
      [LONG_QUERY_SECONDS],
    );
    results.push(
      long.rows.length === 0
        ? pass('postgres long queries', `none running longer than ${LONG_QUERY_SECONDS / 60} minutes`)
        : warnAt(
            'postgres long queries',
            long.rows.map((row) => `pid ${row.pid} ${row.state} ${row.seconds}s`).join(', '),
            'inspect with SELECT query FROM pg_stat_activity WHERE pid = …; end one with SELECT pg_cancel_backend(pid) (or pg_terminate_backend)',
          ),
    );

    const bloated = await client.query<{ name: string; dead: string; ratio: number }>(
      `SELECT schemaname || '.' || relname AS name, n_dead_tup AS dead,
              n_dead_tup::float / greatest(n_live_tup + n_dead_tup, 1) AS ratio
         FROM pg_stat_user_tables
        WHERE schemaname IN ('auth', 'chat') AND n_dead_tup > $1
          AND n_dead_tup::float / greatest(n_live_tup + n_dead_tup, 1) > $2
        ORDER BY n_dead_tup DESC`,
      [BLOAT_MIN_DEAD, BLOAT_RATIO],
    );
    results.push(
      bloated.rows.length === 0
        ? pass('postgres bloat', `no table over ${BLOAT_RATIO * 100}% dead rows`)
        : warnAt(
            'postgres bloat',
            bloated.rows
              .map((row) => `${row.name} ${Math.round(row.ratio * 100)}% dead (${row.dead})`)
              .join(', '),
            `VACUUM (ANALYZE) ${bloated.rows[0]!.name}; if it keeps coming back, check autovacuum and long transactions`,
          ),
    );
    results.push(await signingKeyAge(client, options));
    return results;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function signingKeyAge(client: pg.Client, options: DatabaseCheckOptions): Promise<CheckResult> {
  const check = 'signing key age';
  const exists = await client.query(
    `SELECT 1 FROM pg_tables WHERE schemaname = 'auth' AND tablename = 'signing_keys'`,
  );
  if (exists.rows.length === 0)
    return warnAt(check, 'auth.signing_keys not found', 'run corral migrate, then start auth');
  // Read-only look at auth's table: the operator's view, as pg_dump has; no service reads it.
  const active = await client.query<{ created_at: Date }>(
    `SELECT created_at FROM auth.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
  );
  const created = active.rows[0]?.created_at;
  if (!created)
    return fail(
      check,
      'no active signing key',
      'start auth (it creates one) or run corral rotate-signing-key',
    );
  const ageDays = ((options.now ?? Date.now()) - created.getTime()) / DAY_MS;
  const age = `${ageDays.toFixed(1)} days old`;
  if (options.rotationDays > 0) {
    return ageDays > options.rotationDays + 1
      ? fail(
          check,
          `${age}, policy SIGNING_KEY_ROTATION_DAYS=${options.rotationDays}`,
          'the scheduled rotation is not happening: check auth logs, or run corral rotate-signing-key',
        )
      : pass(check, `${age}, rotated every ${options.rotationDays} days`);
  }
  return ageDays > MANUAL_ROTATION_DAYS
    ? warnAt(
        check,
        `${age}, no rotation policy`,
        `run corral rotate-signing-key, or set auth's SIGNING_KEY_ROTATION_DAYS (e.g. 90)`,
      )
    : pass(check, `${age} (manual rotation; warns after ${MANUAL_ROTATION_DAYS} days)`);
}
