import { z } from 'zod';
import { recordId, timestamp } from './common.js';

/** Longest folder name (characters, after trimming). */
export const FOLDER_NAME_MAX_CHARS = 100;

export const folderName = z.string().trim().min(1).max(FOLDER_NAME_MAX_CHARS);

/** A user's folder of conversations; `GET /api/folders` lists them oldest first. */
export const folder = z.object({
  id: recordId,
  name: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Folder = z.infer<typeof folder>;

/** `POST /api/folders`, `PATCH /api/folders/:id`. */
export const folderInput = z.object({ name: folderName }).strict();

export const folderResponse = z.object({ folder });
export const folderList = z.object({
  items: z.array(folder),
  /** MAX_FOLDERS_PER_USER: creating one more is refused (409). */
  limit: z.number().int().positive(),
});
export type FolderList = z.infer<typeof folderList>;

/** `PUT /api/conversations/:id/folder`: file it in one of the caller's folders, or none (null). */
export const conversationFolderInput = z.object({ folderId: z.uuid().nullable() }).strict();

/** A folder in the export file (conversations name it by `folderId`). */
export const exportedFolder = z.object({
  id: z.uuid(),
  name: folderName,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ExportedFolder = z.infer<typeof exportedFolder>;
