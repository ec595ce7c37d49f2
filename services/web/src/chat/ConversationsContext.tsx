import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { api, type Conversation } from '../api/index.js';
import { useTitleFollower } from './useTitleFollower.js';

interface ConversationsState {
  items: Conversation[];
  nextCursor: string | null;
  loading: boolean;
  error: unknown;
  query: string;
  showArchived: boolean;
  setQuery(q: string): void;
  setShowArchived(value: boolean): void;
  loadMore(): void;
  reload(): void;
  /** Insert or replace (after create, rename, pin, a new reply). */
  upsert(conversation: Conversation): void;
  remove(id: string): void;
  /**
   * Conversations in folders (the newest of them, read apart from the pages): shown in their
   * folders even when the pages loaded so far do not reach them. Not while searching.
   */
  addFiled(conversations: Conversation[]): void;
  /**
   * After a reply: while the conversation still has its first-line title, watches for the generated
   * one, which replaces it in the list and is handed to `onTitle`. Outlives the chat view, so the
   * list gets the title even when the user has moved on.
   */
  followTitle(conversation: Conversation, onTitle?: (titled: Conversation) => void): void;
  /** Conversations whose reply is still being written (the server's list, then this tab's streams). */
  replying: ReadonlySet<string>;
  markReplying(conversationId: string, replying: boolean): void;
}

const Context = createContext<ConversationsState | null>(null);
const PAGE_SIZE = 30;

const newestFirst = (a: Conversation, b: Conversation) =>
  b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id);

/** The sidebar's list, shared with the chat view so new and renamed conversations show at once. */
export function ConversationsProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<Conversation[]>([]);
  const [filed, setFiled] = useState<Conversation[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [query, setQuery] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [generation, setGeneration] = useState(0);
  const [replying, setReplying] = useState<ReadonlySet<string>>(new Set());
  const requestSeq = useRef(0);
  const followGeneratedTitle = useTitleFollower();

  const fetchPage = useCallback(
    async (cursor: string | null) => {
      const seq = ++requestSeq.current;
      setLoading(true);
      setError(undefined);
      try {
        const page = await api.chat.conversations({
          q: query || undefined,
          cursor,
          // "Show archived" adds the archived ones to the list (marked), it does not swap lists.
          archived: showArchived ? 'all' : false,
          limit: PAGE_SIZE,
        });
        if (seq !== requestSeq.current) return;
        setItems((previous) => {
          const merged = cursor
            ? [...previous, ...page.items.filter((c) => !previous.some((p) => p.id === c.id))]
            : page.items;
          return merged;
        });
        setNextCursor(page.nextCursor);
        setReplying((previous) => {
          const next = new Set(cursor ? previous : []);
          for (const id of page.replying) next.add(id);
          return next;
        });
      } catch (caught) {
        if (seq === requestSeq.current) setError(caught);
      } finally {
        if (seq === requestSeq.current) setLoading(false);
      }
    },
    [query, showArchived],
  );

  useEffect(() => {
    const timer = window.setTimeout(() => void fetchPage(null), query ? 250 : 0);
    return () => window.clearTimeout(timer);
  }, [fetchPage, query, generation]);

  const value = useMemo<ConversationsState>(() => {
    // The pages hold every conversation they reached; a filed one beyond them joins from `filed`.
    const extra = query
      ? []
      : filed.filter((c) => (showArchived || !c.archived) && !items.some((i) => i.id === c.id));
    const forget = (id: string) => setFiled((previous) => previous.filter((c) => c.id !== id));
    const upsert = (conversation: Conversation) => {
      forget(conversation.id);
      setItems((previous) => {
        const rest = previous.filter((c) => c.id !== conversation.id);
        if (conversation.archived && !showArchived) return rest;
        return [conversation, ...rest].sort(newestFirst);
      });
    };
    return {
      items: extra.length > 0 ? [...items, ...extra].sort(newestFirst) : items,
      nextCursor,
      loading,
      error,
      query,
      showArchived,
      setQuery,
      setShowArchived,
      loadMore: () => {
        if (nextCursor && !loading) void fetchPage(nextCursor);
      },
      reload: () => setGeneration((g) => g + 1),
      upsert,
      remove: (id) => {
        forget(id);
        setItems((previous) => previous.filter((c) => c.id !== id));
      },
      addFiled: setFiled,
      replying,
      markReplying: (conversationId, on) =>
        setReplying((previous) => {
          if (previous.has(conversationId) === on) return previous;
          const next = new Set(previous);
          if (on) next.add(conversationId);
          else next.delete(conversationId);
          return next;
        }),
      followTitle: (conversation, onTitle) =>
        followGeneratedTitle(conversation, (titled) => {
          upsert(titled);
          onTitle?.(titled);
        }),
    };
  }, [
    items,
    filed,
    nextCursor,
    loading,
    error,
    query,
    showArchived,
    fetchPage,
    followGeneratedTitle,
    replying,
  ]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useConversations(): ConversationsState {
  const value = useContext(Context);
  if (!value) throw new Error('useConversations outside ConversationsProvider');
  return value;
}
