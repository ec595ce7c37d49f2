-- Text of a reply being generated, appended as chunk rows: each batch costs the size of its new
-- text instead of rewriting the whole growing reply (`content = content || $1`). The final save
-- writes the whole text on the message once and deletes its chunks; the sweep folds them in.
-- Expand-only: a new table, nothing existing changes.

-- CreateTable
CREATE TABLE "message_chunks" (
    "message_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "content" TEXT NOT NULL,

    CONSTRAINT "message_chunks_pkey" PRIMARY KEY ("message_id","seq")
);

-- AddForeignKey
ALTER TABLE "message_chunks" ADD CONSTRAINT "message_chunks_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;
