import { describe, expect, it } from 'vitest';
import { destructiveStatements, splitStatements } from './destructive.js';

const whys = (sql: string) => destructiveStatements(sql).map((finding) => finding.why);

describe('destructiveStatements', () => {
  it.each([
    ['DROP TABLE "conversations";', /drops an object/],
    ['DROP TYPE "Role";', /drops an object/],
    ['ALTER TABLE "messages" DROP COLUMN "model";', /drops a column/],
    ['ALTER TABLE messages DROP model;', /drops a column/],
    ['ALTER TABLE "messages" RENAME COLUMN "model" TO "model_name";', /renames/],
    ['ALTER TABLE "messages" RENAME TO "turns";', /renames/],
    ["ALTER TYPE \"Role\" RENAME VALUE 'user' TO 'member';", /renames/],
    ['ALTER TABLE "messages" ALTER COLUMN "tokens" SET DATA TYPE SMALLINT;', /type/],
    ['ALTER TABLE "messages" ALTER COLUMN "model" TYPE VARCHAR(20);', /type/],
    ['ALTER TABLE "messages" ALTER COLUMN "model" SET NOT NULL;', /NOT NULL without a default/],
    ['ALTER TABLE "messages" ADD COLUMN "kind" TEXT NOT NULL;', /adds a NOT NULL column/],
    ['ALTER TABLE "a" ADD COLUMN "x" NUMERIC(10,2), ADD COLUMN "y" TEXT NOT NULL;', /adds a NOT NULL column/],
    ['TRUNCATE "messages";', /deletes every row/],
    ['DELETE FROM "messages";', /deletes every row/],
  ])('flags %s', (sql, why) => {
    expect(whys(sql)).toEqual([expect.stringMatching(why)]);
  });

  it.each([
    'CREATE TABLE "t" ("id" UUID NOT NULL, "name" TEXT NOT NULL);',
    'ALTER TABLE "conversations" ADD COLUMN "title_source" "TitleSource" NOT NULL DEFAULT \'none\';',
    'ALTER TABLE "messages" ADD COLUMN "user_id" TEXT;',
    'ALTER TABLE "messages" ALTER COLUMN "model" DROP NOT NULL;',
    'ALTER TABLE "messages" ALTER COLUMN "kind" SET DEFAULT \'x\', ALTER COLUMN "kind" SET NOT NULL;',
    'ALTER TABLE "messages" DROP CONSTRAINT "messages_fkey";',
    'DROP INDEX IF EXISTS "messages_content_trgm_idx";',
    'ALTER INDEX "a" RENAME TO "b";',
    'ALTER TABLE "a" RENAME CONSTRAINT "x" TO "y";',
    'DELETE FROM "sessions" WHERE "expires_at" < now();',
    'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DROP TABLE x; RETURN NEW; END; $$;',
  ])('lets %s through', (sql) => {
    expect(whys(sql)).toEqual([]);
  });

  it('lets a destructive statement through when the comment above it carries the marker', () => {
    const sql = `-- corral:contract the column is unused since 0.3 (expand in 20260101000000_x)\nALTER TABLE "messages" DROP COLUMN "model";\nDROP TABLE "old";`;
    expect(destructiveStatements(sql)).toEqual([
      { line: 3, statement: 'DROP TABLE "old"', why: expect.stringMatching(/drops an object/) },
    ]);
  });

  it('keeps statements apart across quotes, dollar quotes and comments', () => {
    const statements = splitStatements(`SELECT ';'; -- a; comment\n/* b; */ SELECT $x$;$x$;\nSELECT "a;b";`);
    expect(statements.map((statement) => statement.text)).toEqual([
      "SELECT ';'",
      'SELECT $body$',
      'SELECT "a;b"',
    ]);
    expect(statements[1]!.comments).toEqual(['a; comment', 'b;']);
  });
});
