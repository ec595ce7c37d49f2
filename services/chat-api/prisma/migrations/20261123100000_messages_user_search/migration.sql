-- Search (?q=) bounded by the user: every message carries its conversation's owner, so the
-- message-text match reads one user's messages (a GIN index on (user_id, content)) instead of every
-- user's messages that contain the word. Not in schema.prisma: a trigger fills it on every insert,
-- so writers (Prisma, imports, raw SQL) never set it. A conversation never changes owner, and a
-- message never changes conversation, so the copy cannot go stale.

-- btree_gin gives text a GIN operator class (for user_id beside the trigrams); in public like pg_trgm.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

-- Dropped before the backfill so the rewrite does not maintain it; the new index covers content-only
-- searches as well (a GIN index serves a condition on any of its columns).
DROP INDEX IF EXISTS "messages_content_trgm_idx";

-- AlterTable + backfill
ALTER TABLE "messages" ADD COLUMN "user_id" TEXT;
UPDATE "messages" AS m SET "user_id" = c."user_id" FROM "conversations" AS c WHERE c."id" = m."conversation_id";

-- Always the conversation's owner, whatever the INSERT said. search_path is pinned to this schema.
-- The column stays nullable so an insert into a missing conversation still fails on the foreign
-- key (as before), not on NOT NULL; every row that exists has its owner.
CREATE FUNCTION "messages_set_user_id"() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  SELECT c."user_id" INTO NEW."user_id" FROM "conversations" AS c WHERE c."id" = NEW."conversation_id";
  RETURN NEW;
END;
$$;

CREATE TRIGGER "messages_set_user_id" BEFORE INSERT ON "messages"
FOR EACH ROW EXECUTE FUNCTION "messages_set_user_id"();

-- CreateIndex: one user's messages containing a word (ILIKE '%…%'), without reading other users'.
CREATE INDEX "messages_user_id_content_trgm_idx" ON "messages" USING GIN ("user_id", "content" public.gin_trgm_ops);
