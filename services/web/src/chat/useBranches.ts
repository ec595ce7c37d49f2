import { useCallback, useMemo, useState } from 'react';
import { api, type Conversation, type Message } from '../api/index.js';
import { newestLeaf, pathTo, siblingsOf } from './branches.js';

/** What a message shows when it has alternatives: which one of how many, and a way to the others. */
export interface BranchControl {
  index: number;
  count: number;
  go(delta: number): void;
}

/**
 * A conversation's message tree and the branch on screen (root → `leafId`). Switching branches
 * shows the other branch at once and saves it as the conversation's current one, so a reload and
 * the next message follow it; when that save fails, `branchUnsaved` says so.
 */
export function useBranches() {
  const [messages, setMessages] = useState<Message[]>([]);
  const [leafId, setLeafId] = useState<string | null>(null);
  const [branchUnsaved, setBranchUnsaved] = useState(false);

  /** The branch on screen, without system messages. */
  const shown = useMemo(
    () => pathTo(messages, leafId).filter((m) => m.role !== 'system'),
    [messages, leafId],
  );

  /** A conversation's messages (or none) and the branch to show. */
  const show = useCallback((items: Message[], leaf: string | null) => {
    setMessages(items);
    setLeafId(leaf);
  }, []);

  /** Another conversation is opening: a failed save of the last one's branch is no longer news. */
  const clearUnsaved = useCallback(() => setBranchUnsaved(false), []);

  /**
   * Shows the branch ending at `leaf` and saves it; resolves to the saved conversation (null when
   * nothing needed saving: no conversation yet, a reply on its way, or already the current one).
   * A failed save leaves the view as it is and `branchUnsaved` set, and rejects with the error.
   */
  const switchBranch = useCallback(
    async (conversation: Conversation | null, leaf: string, busy: boolean): Promise<Conversation | null> => {
      setLeafId(leaf);
      if (!conversation || busy || leaf === conversation.currentMessageId) return null;
      try {
        const saved = await api.chat.updateConversation(conversation.id, { currentMessageId: leaf });
        setBranchUnsaved(false);
        return saved;
      } catch (error) {
        setBranchUnsaved(true);
        throw error;
      }
    },
    [],
  );

  /** The alternatives at `message`, if it has any; `go` picks the newest leaf under the one chosen. */
  const branchAt = useCallback(
    (message: Message, onSwitch: (leaf: string) => void): BranchControl | undefined => {
      const siblings = siblingsOf(messages, message);
      if (siblings.length < 2) return undefined;
      const index = siblings.findIndex((s) => s.id === message.id);
      return {
        index,
        count: siblings.length,
        go: (delta) => {
          const target = siblings[index + delta];
          if (target) onSwitch(newestLeaf(messages, target.id));
        },
      };
    },
    [messages],
  );

  /** True while a branch other than the saved one is shown because saving it failed. */
  const viewingUnsavedBranch = (conversation: Conversation | null): boolean =>
    Boolean(
      branchUnsaved && conversation?.currentMessageId && leafId && leafId !== conversation.currentMessageId,
    );

  return {
    messages,
    setMessages,
    leafId,
    setLeafId,
    shown,
    branchUnsaved,
    show,
    clearUnsaved,
    switchBranch,
    branchAt,
    viewingUnsavedBranch,
  };
}
