-- Round 2: who named a conversation (so generated titles never overwrite a rename), admin-set
-- per-user and per-API-key limits, and an index for the retention job.

-- CreateEnum
CREATE TYPE "TitleSource" AS ENUM ('none', 'auto', 'generated', 'user');

-- AlterTable: rows from before this migration may carry a title the user typed; never overwrite those.
ALTER TABLE "conversations" ADD COLUMN "title_source" "TitleSource" NOT NULL DEFAULT 'none';
UPDATE "conversations" SET "title_source" = 'user' WHERE "title" <> '';

-- CreateTable: NULL = the deployment default (RATE_LIMIT_PER_MINUTE, DAILY_TOKEN_BUDGET, …).
CREATE TABLE "user_limits" (
    "user_id" TEXT NOT NULL,
    "requests_per_minute" INTEGER,
    "daily_token_budget" INTEGER,
    "max_concurrent_streams" INTEGER,
    "allowed_models" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_limits_pkey" PRIMARY KEY ("user_id"),
    CONSTRAINT "user_limits_non_negative" CHECK (
        COALESCE("requests_per_minute", 0) >= 0 AND COALESCE("daily_token_budget", 0) >= 0
        AND COALESCE("max_concurrent_streams", 0) >= 0
    )
);

-- CreateTable: per-API-key override of DAILY_TOKEN_BUDGET_PER_KEY.
CREATE TABLE "api_key_limits" (
    "api_key_id" TEXT NOT NULL,
    "daily_token_budget" INTEGER,
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_key_limits_pkey" PRIMARY KEY ("api_key_id"),
    CONSTRAINT "api_key_limits_non_negative" CHECK (COALESCE("daily_token_budget", 0) >= 0)
);

-- CreateIndex: the retention job finds conversations idle for N days across all users.
CREATE INDEX "conversations_updated_at_idx" ON "conversations"("updated_at");

-- CreateIndex: exports walk a user's conversations in id order (stable while they change).
CREATE INDEX "conversations_user_id_id_idx" ON "conversations"("user_id", "id");

-- CreateIndex: a key's tokens today (per-key budget).
CREATE INDEX "usage_records_api_key_id_day_idx" ON "usage_records"("api_key_id", "day") WHERE "api_key_id" <> '';
