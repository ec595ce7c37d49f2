-- A user's folders of conversations. conversations gains a nullable folder_id; deleting a folder
-- sets it back to NULL (its conversations return to the unfiled list, nothing else is deleted).
-- Expand-only: a new table and a nullable column; the previous release ignores both.

-- CreateTable
CREATE TABLE "folders" (
    "id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "folders_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "folders_user_id_created_at_idx" ON "folders"("user_id", "created_at");

-- AlterTable
ALTER TABLE "conversations" ADD COLUMN "folder_id" UUID;

-- CreateIndex
CREATE INDEX "conversations_folder_id_idx" ON "conversations"("folder_id");

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_folder_id_fkey" FOREIGN KEY ("folder_id") REFERENCES "folders"("id") ON DELETE SET NULL ON UPDATE CASCADE;
