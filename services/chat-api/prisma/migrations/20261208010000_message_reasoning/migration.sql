-- A thinking model's reasoning (Ollama's `message.thinking`) kept with its reply, so the "Thought"
-- disclosure survives a reload, another tab and an export. NULL: no reasoning (every older reply).
-- Expand-only: a new nullable column; the previous release neither reads nor writes it.

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "reasoning" TEXT;
