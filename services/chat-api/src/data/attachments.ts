import type { Attachment as AttachmentView } from '@corral/contracts';
import type pg from 'pg';
import { type Database, inTransaction } from './db.js';

export type { AttachmentView };

export interface NewAttachment {
  id: string;
  userId: string;
  conversationId: string;
  /** Set for an imported one (already part of a message); null for an upload awaiting its message. */
  messageId: string | null;
  name: string;
  contentType: AttachmentView['contentType'];
  data: Buffer;
}

/** What stored the user's attachments would exceed: the numbers for the 413. */
export interface QuotaRefusal {
  usedBytes: number;
  quotaBytes: number;
  size: number;
}

interface AttachmentRow {
  id: string;
  message_id: string | null;
  name: string;
  content_type: AttachmentView['contentType'];
  size: number;
  created_at: Date;
}

const VIEW_COLUMNS = 'id, message_id, name, content_type, size, created_at';

const toView = (row: AttachmentRow): AttachmentView => ({
  id: row.id,
  name: row.name,
  contentType: row.content_type,
  size: row.size,
  createdAt: row.created_at.toISOString(),
});

/** Bytes of attachments the user stores. */
export async function storageUsed(db: Pick<Database, 'pool'> | { pool: pg.PoolClient }, userId: string) {
  const { rows } = await db.pool.query<{ used: string }>(
    'SELECT COALESCE(SUM(size), 0)::text AS used FROM attachments WHERE user_id = $1',
    [userId],
  );
  return Number(rows[0]?.used ?? 0);
}

/**
 * Stores attachments of one user unless they would take the user past `quotaBytes` (null = no
 * quota): then nothing is stored and the numbers come back. A per-user advisory lock orders
 * concurrent uploads, so two of them cannot both fit into the last free bytes.
 */
export function storeAttachments(
  db: Database,
  userId: string,
  items: NewAttachment[],
  quotaBytes: number | null,
): Promise<{ stored: AttachmentView[] } | { refused: QuotaRefusal }> {
  return inTransaction(db, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('corral:attachments:' || $1))", [userId]);
    const size = items.reduce((sum, item) => sum + item.data.length, 0);
    if (quotaBytes !== null) {
      const usedBytes = await storageUsed({ pool: client }, userId);
      if (usedBytes + size > quotaBytes) return { refused: { usedBytes, quotaBytes, size } };
    }
    const stored: AttachmentView[] = [];
    for (const item of items) {
      const { rows } = await client.query<AttachmentRow>(
        `INSERT INTO attachments (id, user_id, conversation_id, message_id, name, content_type, size, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${VIEW_COLUMNS}`,
        [
          item.id,
          item.userId,
          item.conversationId,
          item.messageId,
          item.name,
          item.contentType,
          item.data.length,
          item.data,
        ],
      );
      stored.push(toView(rows[0]!));
    }
    return { stored };
  });
}

/** The owner's attachment in this conversation (bytes included), or null — also for anyone else's. */
export async function findAttachment(
  db: Database,
  userId: string,
  conversationId: string,
  id: string,
): Promise<(AttachmentView & { data: Buffer }) | null> {
  const { rows } = await db.pool.query<AttachmentRow & { data: Buffer }>(
    `SELECT ${VIEW_COLUMNS}, data FROM attachments WHERE id = $1 AND conversation_id = $2 AND user_id = $3`,
    [id, conversationId, userId],
  );
  const row = rows[0];
  return row ? { ...toView(row), data: row.data } : null;
}

/** Uploads in this conversation not yet sent with a message, among `ids`. */
export async function unsentAttachments(
  db: Database,
  userId: string,
  conversationId: string,
  ids: string[],
): Promise<AttachmentView[]> {
  const { rows } = await db.pool.query<AttachmentRow>(
    `SELECT ${VIEW_COLUMNS} FROM attachments
      WHERE id = ANY($1::uuid[]) AND conversation_id = $2 AND user_id = $3 AND message_id IS NULL`,
    [ids, conversationId, userId],
  );
  return rows.map(toView);
}

/** The attachments of these messages (views, by message id, oldest first). */
export async function attachmentsOf(
  db: Pick<Database, 'pool'>,
  messageIds: string[],
): Promise<Map<string, AttachmentView[]>> {
  const byMessage = new Map<string, AttachmentView[]>();
  if (messageIds.length === 0) return byMessage;
  const { rows } = await db.pool.query<AttachmentRow>(
    `SELECT ${VIEW_COLUMNS} FROM attachments WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [messageIds],
  );
  for (const row of rows) {
    const list = byMessage.get(row.message_id!) ?? [];
    list.push(toView(row));
    byMessage.set(row.message_id!, list);
  }
  return byMessage;
}

/** The images of these messages in base64 (what Ollama's `images` takes), by message id. */
export async function imagesOf(db: Database, messageIds: string[]): Promise<Map<string, string[]>> {
  const byMessage = new Map<string, string[]>();
  if (messageIds.length === 0) return byMessage;
  const { rows } = await db.pool.query<{ message_id: string; data: Buffer }>(
    `SELECT message_id, data FROM attachments WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [messageIds],
  );
  for (const row of rows) {
    const list = byMessage.get(row.message_id) ?? [];
    list.push(row.data.toString('base64'));
    byMessage.set(row.message_id, list);
  }
  return byMessage;
}

/** Every attachment of these messages with its bytes (the export). */
export async function attachmentFilesOf(
  db: Pick<Database, 'pool'>,
  messageIds: string[],
): Promise<Map<string, { id: string; name: string; contentType: string; data: string }[]>> {
  const byMessage = new Map<string, { id: string; name: string; contentType: string; data: string }[]>();
  if (messageIds.length === 0) return byMessage;
  const { rows } = await db.pool.query<AttachmentRow & { data: Buffer }>(
    `SELECT ${VIEW_COLUMNS}, data FROM attachments WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [messageIds],
  );
  for (const row of rows) {
    const list = byMessage.get(row.message_id!) ?? [];
    list.push({
      id: row.id,
      name: row.name,
      contentType: row.content_type,
      data: row.data.toString('base64'),
    });
    byMessage.set(row.message_id!, list);
  }
  return byMessage;
}

/** Uploads never sent with a message (the tab was closed) older than `cutoff`: deleted; how many. */
export async function deleteUnsentAttachments(db: Database, cutoff: Date): Promise<number> {
  const { rowCount } = await db.pool.query(
    'DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1',
    [cutoff],
  );
  return rowCount ?? 0;
}

/** The images of one message with their bytes (an edit carries them to the new message). */
export async function messageFiles(
  db: Database,
  messageId: string,
): Promise<{ name: string; contentType: AttachmentView['contentType']; data: Buffer }[]> {
  const { rows } = await db.pool.query<{
    name: string;
    content_type: AttachmentView['contentType'];
    data: Buffer;
  }>('SELECT name, content_type, data FROM attachments WHERE message_id = $1 ORDER BY created_at, id', [
    messageId,
  ]);
  return rows.map((row) => ({ name: row.name, contentType: row.content_type, data: row.data }));
}
