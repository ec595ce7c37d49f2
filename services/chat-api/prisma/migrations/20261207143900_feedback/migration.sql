-- Thumbs up/down with an optional comment on an assistant reply, one per reply (the owner's),
-- replaced when changed; deleted with the reply. The admin usage view counts them per model.
-- Expand-only: a new type and a new table; the previous release ignores both.

-- CreateEnum
CREATE TYPE "FeedbackRating" AS ENUM ('up', 'down');

-- CreateTable
CREATE TABLE "message_feedback" (
    "message_id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "conversation_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "rating" "FeedbackRating" NOT NULL,
    "comment" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_feedback_pkey" PRIMARY KEY ("message_id")
);

-- CreateIndex
CREATE INDEX "message_feedback_conversation_id_idx" ON "message_feedback"("conversation_id");

-- CreateIndex
CREATE INDEX "message_feedback_updated_at_idx" ON "message_feedback"("updated_at");

-- AddForeignKey
ALTER TABLE "message_feedback" ADD CONSTRAINT "message_feedback_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;
