import { randomBytes } from 'node:crypto';
import { dropSchema, sql, TEST_DATABASE_URL as DATABASE_URL } from '@corral/test-support';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http.js';
import { connectPostgres, createPgPool, splitDatabaseUrl } from '../src/postgres.js';
import { kitWithCapturedLogs } from './helpers.js';

const schemas: string[] = [];
const pools: pg.Pool[] = [];

/** A fresh schema holding one table, `notes`, with one row naming the schema. */
async function schemaWithNotes(name = `kit_pg_${randomBytes(4).toString('hex')}`): Promise<string> {
  schemas.push(name);
  const quoted = `"${name.replaceAll('"', '""')}"`;
  await sql(`CREATE SCHEMA ${quoted}`);
  await sql(`CREATE TABLE ${quoted}.notes (body text)`);
  await sql(`INSERT INTO ${quoted}.notes VALUES ('${name.replaceAll("'", "''")}')`);
  return name;
}

const withSchema = (schema: string) => `${DATABASE_URL}?schema=${encodeURIComponent(schema)}`;

afterAll(async () => {
  await Promise.all(pools.filter((pool) => !pool.ended).map((pool) => pool.end()));
  for (const schema of schemas) await dropSchema(schema);
});

describe('splitDatabaseUrl', () => {
  it("takes Prisma's ?schema= off the URL and keeps every other parameter", () => {
    expect(splitDatabaseUrl('postgresql://u:p@db:5432/corral?schema=chat&sslmode=require')).toEqual({
      connectionString: 'postgresql://u:p@db:5432/corral?sslmode=require',
      schema: 'chat',
    });
  });

  it('names public when the URL has no ?schema=', () => {
    expect(splitDatabaseUrl('postgresql://db/corral')).toEqual({
      connectionString: 'postgresql://db/corral',
      schema: 'public',
    });
  });
});

describe('createPgPool against the real PostgreSQL', () => {
  it('with searchPath, finds the schema’s tables unqualified, then public’s', async () => {
    const schema = await schemaWithNotes();
    const { pool, schema: named } = createPgPool(withSchema(schema), { max: 2, searchPath: true });
    pools.push(pool);
    expect(named).toBe(schema);
    const notes = await pool.query<{ body: string }>('SELECT body FROM notes');
    expect(notes.rows).toEqual([{ body: schema }]);
    const path = await pool.query<{ search_path: string }>('SHOW search_path');
    expect(path.rows[0]?.search_path).toBe(`"${schema}",public`);
  });

  it('quotes a schema name that needs it', async () => {
    const schema = await schemaWithNotes(`Kit "odd" \\ ${randomBytes(3).toString('hex')}`);
    const { pool } = createPgPool(withSchema(schema), { searchPath: true });
    pools.push(pool);
    const notes = await pool.query<{ body: string }>('SELECT body FROM notes');
    expect(notes.rows).toEqual([{ body: schema }]);
  });

  it('without searchPath, leaves the server’s search_path alone', async () => {
    const schema = await schemaWithNotes();
    const { pool } = createPgPool(withSchema(schema));
    pools.push(pool);
    await expect(pool.query('SELECT body FROM notes')).rejects.toThrow(/relation "notes" does not exist/);
    const notes = await pool.query<{ body: string }>(`SELECT body FROM "${schema}".notes`);
    expect(notes.rows).toEqual([{ body: schema }]);
  });

  it('opens at most `max` connections', async () => {
    const { pool } = createPgPool(DATABASE_URL, { max: 2 });
    pools.push(pool);
    const clients = await Promise.all([pool.connect(), pool.connect()]);
    const third = pool.connect();
    expect(pool.waitingCount).toBe(1);
    clients[0]!.release();
    (await third).release();
    clients[1]!.release();
    expect(pool.totalCount).toBe(2);
  });

  it('survives a connection the server drops while idle: no crash, the next query reconnects', async () => {
    const { pool } = createPgPool(DATABASE_URL, { max: 1 });
    pools.push(pool);
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const errors: unknown[] = [];
    pool.on('error', (error) => errors.push(error));
    await sql(`SELECT pg_terminate_backend(${pid})`);
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    const again = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(again.rows[0]!.pid).not.toBe(pid);
  });
});

describe('connectPostgres', () => {
  it('reports ready through /readyz and closes the pool with the kit’s shutdown hooks', async () => {
    const schema = await schemaWithNotes();
    const { kit, logLines } = kitWithCapturedLogs();
    const { pool, schema: named } = connectPostgres(kit, withSchema(schema), { max: 2, searchPath: true });
    pools.push(pool);
    expect(named).toBe(schema);
    const app = createHttpApp(kit, () => {});

    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({
      postgres: expect.objectContaining({ status: 'up', critical: true }),
    });
    expect((await pool.query('SELECT body FROM notes')).rowCount).toBe(1);

    await kit.lifecycle.runShutdownHooks(kit.logger);
    expect(pool.ended).toBe(true);
    expect(logLines().filter((line) => line.message === 'shutdown hook failed')).toEqual([]);
  });

  it('takes the service out of rotation while PostgreSQL cannot be reached, under the name given', async () => {
    const { kit } = kitWithCapturedLogs();
    const { pool } = connectPostgres(kit, 'postgresql://postgres@127.0.0.1:1/test', { name: 'history-db' });
    pools.push(pool);
    const app = createHttpApp(kit, () => {});
    const down = await request(app).get('/readyz').expect(503);
    expect(down.body).toMatchObject({
      status: 'not_ready',
      checks: {
        'history-db': { status: 'down', critical: true, error: expect.stringMatching(/ECONNREFUSED/) },
      },
    });
  });
});
