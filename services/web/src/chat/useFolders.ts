import { useCallback, useEffect, useState } from 'react';
import type { Folder } from '@corral/contracts';
import { api, type Conversation } from '../api/index.js';

export interface FoldersState {
  items: Folder[];
  error: unknown;
  clearError(): void;
  create(name: string): Promise<void>;
  rename(folder: Folder, name: string): Promise<void>;
  /** Deletes the folder; its conversations go back to no folder. */
  remove(folder: Folder): Promise<void>;
  move(conversation: Conversation, folderId: string | null): Promise<void>;
}

/** How many of the newest filed conversations are read at start (the rest come with the pages). */
const FILED_AT_START = 100;

/**
 * The user's folders (chat-api's `/api/folders`), kept in step with the sidebar's conversation
 * list. When there are folders, their newest conversations are read too, so a folder shows what
 * it holds, not only what the list's pages have reached.
 */
export function useFolders(list: {
  items: Conversation[];
  upsert(conversation: Conversation): void;
  addFiled(conversations: Conversation[]): void;
}): FoldersState {
  const [items, setItems] = useState<Folder[]>([]);
  const [error, setError] = useState<unknown>();
  const { upsert, addFiled, items: conversations } = list;

  useEffect(() => {
    let live = true;
    void (async () => {
      const page = await api.organize.folders();
      if (!live) return;
      setItems(page.items);
      if (page.items.length === 0) return;
      const filed = await api.chat.conversations({ filed: true, limit: FILED_AT_START });
      if (live) addFiled(filed.items);
    })().catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, [addFiled]);

  const attempt = useCallback(async (work: () => Promise<void>) => {
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    }
  }, []);

  return {
    items,
    error,
    clearError: () => setError(undefined),
    create: (name) =>
      attempt(async () => {
        const folder = await api.organize.createFolder(name);
        setItems((shown) => [...shown, folder]);
      }),
    rename: (folder, name) =>
      attempt(async () => {
        const renamed = await api.organize.renameFolder(folder.id, name);
        setItems((shown) => shown.map((f) => (f.id === renamed.id ? renamed : f)));
      }),
    remove: (folder) =>
      attempt(async () => {
        await api.organize.deleteFolder(folder.id);
        setItems((shown) => shown.filter((f) => f.id !== folder.id));
        for (const c of conversations) if (c.folderId === folder.id) upsert({ ...c, folderId: null });
      }),
    move: (conversation, folderId) =>
      attempt(async () => {
        if (conversation.folderId === folderId) return;
        upsert(await api.organize.moveToFolder(conversation.id, folderId));
      }),
  };
}
