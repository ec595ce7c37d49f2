-- Shared conversations: a read-only snapshot of a conversation's current branch taken when the
-- owner shares it, opened by any signed-in user of this Corral with the unguessable token in the
-- link. Revoking deletes the row; deleting the conversation deletes its shares.
-- Expand-only: a new table the previous release ignores.

-- CreateTable
CREATE TABLE "shares" (
    "id" UUID NOT NULL,
    "token" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "conversation_id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "messages" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shares_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "shares_token_key" ON "shares"("token");

-- CreateIndex
CREATE INDEX "shares_user_id_idx" ON "shares"("user_id");

-- AddForeignKey
ALTER TABLE "shares" ADD CONSTRAINT "shares_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
