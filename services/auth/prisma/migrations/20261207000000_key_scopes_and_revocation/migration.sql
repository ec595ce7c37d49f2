-- Issue 21: API keys carry scopes and remember the key that created them; sign-outs, disables,
-- role and password changes leave a revocation stamp other services check every request.

-- Every existing key becomes inference-only (the column default): managing keys, admin routes
-- and account changes now need a session or a scope an admin grants explicitly.
ALTER TABLE "api_keys" ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT ARRAY['inference']::TEXT[];
ALTER TABLE "api_keys" ADD COLUMN "parent_key_id" UUID;
CREATE INDEX "api_keys_parent_key_id_idx" ON "api_keys"("parent_key_id");
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_parent_key_id_fkey" FOREIGN KEY ("parent_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Access tokens issued before this instant are refused (disable, role change, password change).
ALTER TABLE "users" ADD COLUMN "tokens_valid_after" TIMESTAMPTZ(3);

-- The feed chat-api and the gateway poll (and receive over Redis pub/sub): a user's stamp, or one
-- session (`sid`) ended. Rows older than the longest access-token lifetime are of no use and pruned.
CREATE TABLE "revocation_events" (
    "id" BIGSERIAL NOT NULL,
    "user_id" UUID NOT NULL,
    "session_id" UUID,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "revocation_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "revocation_events_created_at_idx" ON "revocation_events"("created_at");
