-- The prompt library: saved prompts (a title and the text inserted by typing `/` in the composer).
-- A personal prompt belongs to its user; a shared one (shared = true) was saved by an admin and is
-- offered to everyone. Expand-only: a new table the previous release ignores.

-- CreateTable
CREATE TABLE "prompts" (
    "id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "shared" BOOLEAN NOT NULL DEFAULT false,
    "title" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prompts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "prompts_user_id_idx" ON "prompts"("user_id");

-- CreateIndex
CREATE INDEX "prompts_shared_idx" ON "prompts"("shared");
