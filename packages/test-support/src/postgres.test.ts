import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './env.js';
import { dropSchema, sql, uniqueSchema } from './postgres.js';
import { TcpRelay } from './tcp-relay.js';

const created: string[] = [];

afterAll(async () => {
  for (const schema of created) await sql(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
});

async function schemaExists(schema: string): Promise<boolean> {
  const rows = await sql('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
  return rows.length === 1;
}

/** A schema holding a table with a row, so that dropping it needs CASCADE. */
async function createSchemaWithTable(schema: string): Promise<void> {
  created.push(schema);
  const quoted = pg.escapeIdentifier(schema);
  await sql(`CREATE SCHEMA ${quoted}`);
  await sql(`CREATE TABLE ${quoted}.notes (body text)`);
  await sql(`INSERT INTO ${quoted}.notes VALUES ('kept until dropped')`);
}

describe('uniqueSchema', () => {
  it('starts with the prefix and differs on every call', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueSchema('support_test')));
    expect(names.size).toBe(50);
    for (const name of names) expect(name).toMatch(/^support_test_[0-9a-f]{10}$/);
  });
});

describe('sql', () => {
  it('runs a statement with parameters and returns its rows', async () => {
    const rows = await sql<{ sum: number; label: string }>(
      'SELECT $1::int + $2::int AS sum, $3::text AS label',
      [2, 3, 'five'],
    );
    expect(rows).toEqual([{ sum: 5, label: 'five' }]);
  });

  it('rejects with the server’s error', async () => {
    await expect(sql('SELECT * FROM no_such_table_anywhere')).rejects.toThrow(/does not exist/);
  });
});

describe('dropSchema', () => {
  it('drops a schema and the tables in it', async () => {
    const schema = uniqueSchema('support_drop');
    await createSchemaWithTable(schema);
    expect(await schemaExists(schema)).toBe(true);

    await dropSchema(schema);
    expect(await schemaExists(schema)).toBe(false);
  });

  it('quotes a name that needs it, instead of dropping another schema or failing', async () => {
    const plain = uniqueSchema('support_odd');
    const odd = `${plain} "x"; DROP SCHEMA ${plain}`;
    await createSchemaWithTable(plain);
    await createSchemaWithTable(odd);

    await dropSchema(odd);
    expect(await schemaExists(odd)).toBe(false);
    expect(await schemaExists(plain)).toBe(true);
  });

  it('is no error for a schema that is not there', async () => {
    await expect(dropSchema(uniqueSchema('support_missing'))).resolves.toBeUndefined();
  });

  it('works on the database it is given', async () => {
    const relay = new TcpRelay(TEST_DATABASE_URL);
    await relay.open();
    try {
      const schema = uniqueSchema('support_url');
      await createSchemaWithTable(schema);
      await dropSchema(schema, relay.url);
      expect(await schemaExists(schema)).toBe(false);

      await relay.close();
      await expect(dropSchema(uniqueSchema('support_url'), relay.url)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await relay.close();
    }
  });
});
