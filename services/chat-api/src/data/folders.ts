import { randomUUID } from 'node:crypto';
import { AppError } from '@corral/service-kit';
import type { PoolClient } from 'pg';
import type { ExportedFolder, Folder as FolderView } from '@corral/contracts';
import { UUID, conversationNotFound } from './conversations.js';
import { type Conversation, type Database, inTransaction } from './db.js';
import type { Folder } from '../generated/prisma/client.js';

export const folderNotFound = () => new AppError('not_found', 'No such folder.');

export const toFolderView = (f: Folder): FolderView => ({
  id: f.id,
  name: f.name,
  createdAt: f.createdAt.toISOString(),
  updatedAt: f.updatedAt.toISOString(),
});

/** The user's folders, oldest first (the order they were made in). */
export function listFolders(db: Database, userId: string): Promise<Folder[]> {
  return db.prisma.folder.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export async function findOwnFolder(db: Database, userId: string, id: string): Promise<Folder> {
  if (!UUID.test(id)) throw folderNotFound();
  const folder = await db.prisma.folder.findFirst({ where: { id, userId } });
  if (!folder) throw folderNotFound();
  return folder;
}

const tooMany = (limit: number) =>
  new AppError(
    'conflict',
    `You have ${limit} folders, the most allowed (MAX_FOLDERS_PER_USER); delete one first.`,
    {
      extensions: { limit },
    },
  );

interface FolderRow {
  id: string;
  user_id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

const folderFromRow = (row: FolderRow): Folder => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * Runs `work` in a transaction holding the user's folder lock, after checking that `adding` more
 * folders keep the user within `limit`: two tabs (or an import) creating at once cannot both pass.
 */
export function withFolderRoom<T>(
  db: Database,
  userId: string,
  adding: number,
  limit: number,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(db, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`corral:folders:${userId}`]);
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM folders WHERE user_id = $1',
      [userId],
    );
    if ((rows[0]?.n ?? 0) + adding > limit) throw tooMany(limit);
    return work(client);
  });
}

/** Inserts a folder (the caller holds the room: `withFolderRoom`). */
export async function insertFolder(
  client: PoolClient,
  userId: string,
  folder: { id: string; name: string; createdAt?: string; updatedAt?: string },
): Promise<Folder | undefined> {
  const { rows } = await client.query<FolderRow>(
    `INSERT INTO folders (id, user_id, name, created_at, updated_at)
     VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()), COALESCE($5::timestamptz, now()))
     ON CONFLICT (id) DO NOTHING
     RETURNING id, user_id, name, created_at, updated_at`,
    [folder.id, userId, folder.name, folder.createdAt ?? null, folder.updatedAt ?? null],
  );
  return rows[0] && folderFromRow(rows[0]);
}

/** Creates a folder unless the user already has `limit` (409 naming it). */
export async function createFolder(
  db: Database,
  userId: string,
  name: string,
  limit: number,
): Promise<Folder> {
  const folder = await withFolderRoom(db, userId, 1, limit, (client) =>
    insertFolder(client, userId, { id: randomUUID(), name }),
  );
  if (!folder) throw new AppError('conflict', 'A folder with this id exists already.');
  return folder;
}

export function renameFolder(db: Database, folder: Folder, name: string): Promise<Folder> {
  return db.prisma.folder.update({ where: { id: folder.id }, data: { name, updatedAt: new Date() } });
}

/** Deletes the folder; its conversations go back to no folder (ON DELETE SET NULL), nothing else is touched. */
export async function deleteFolder(db: Database, folder: Folder): Promise<void> {
  await db.prisma.folder.delete({ where: { id: folder.id } });
}

/**
 * Files the user's conversation in one of the user's folders (or none). updated_at stays: filing
 * is not activity, so the list order is kept.
 */
export async function moveToFolder(
  db: Database,
  userId: string,
  conversationId: string,
  folderId: string | null,
): Promise<Conversation> {
  if (!UUID.test(conversationId)) throw conversationNotFound();
  if (folderId !== null) await findOwnFolder(db, userId, folderId);
  const { count } = await db.prisma.conversation.updateMany({
    where: { id: conversationId, userId },
    data: { folderId },
  });
  if (count === 0) throw conversationNotFound();
  return db.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } });
}

/**
 * The folders of an import file: one already in this account (same id) is reused, the others are
 * created (under a new id when the id is someone else's), within MAX_FOLDERS_PER_USER. Answers the
 * file's folder ids mapped to this account's.
 */
export async function importFolders(
  db: Database,
  userId: string,
  folders: ExportedFolder[],
  limit: number,
): Promise<{ ids: Map<string, string>; created: number }> {
  if (folders.length === 0) return { ids: new Map(), created: 0 };
  const own = await db.prisma.folder.findMany({
    where: { userId, id: { in: folders.map((f) => f.id) } },
    select: { id: true },
  });
  const ids = new Map(own.map((f) => [f.id, f.id]));
  const fresh = folders.filter((f) => !ids.has(f.id));
  return withFolderRoom(db, userId, fresh.length, limit, async (client) => {
    for (const folder of fresh) {
      const row =
        (await insertFolder(client, userId, folder)) ??
        (await insertFolder(client, userId, { ...folder, id: randomUUID() }));
      if (row) ids.set(folder.id, row.id);
    }
    return { ids, created: fresh.length };
  });
}
