-- Assistants: a name, a base model, a system prompt and sampling parameters, picked like a model.
-- Personal (its user's) or shared by an admin with everyone, or with the groups listed in
-- group_ids (auth's group ids; empty = everyone). A conversation started with one records it in
-- conversation_assistants (its own table: the conversations row and its hot-path reads are
-- unchanged) with the parameters every reply in it uses. Expand-only: new tables.

-- CreateTable
CREATE TABLE "assistants" (
    "id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "shared" BOOLEAN NOT NULL DEFAULT false,
    "group_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "name" TEXT NOT NULL,
    "base_model" TEXT NOT NULL,
    "system_prompt" TEXT NOT NULL DEFAULT '',
    "temperature" DOUBLE PRECISION,
    "top_p" DOUBLE PRECISION,
    "max_tokens" INTEGER,
    "seed" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "assistants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_assistants" (
    "conversation_id" UUID NOT NULL,
    "assistant_id" UUID,
    "name" TEXT NOT NULL,
    "options" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "conversation_assistants_pkey" PRIMARY KEY ("conversation_id")
);

-- CreateIndex
CREATE INDEX "assistants_user_id_idx" ON "assistants"("user_id");

-- CreateIndex
CREATE INDEX "assistants_shared_idx" ON "assistants"("shared");

-- AddForeignKey
ALTER TABLE "conversation_assistants" ADD CONSTRAINT "conversation_assistants_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_assistants" ADD CONSTRAINT "conversation_assistants_assistant_id_fkey" FOREIGN KEY ("assistant_id") REFERENCES "assistants"("id") ON DELETE SET NULL ON UPDATE CASCADE;
