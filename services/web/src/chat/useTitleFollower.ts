import { useCallback, useEffect, useRef } from 'react';
import { api, type Conversation } from '../api/index.js';

/** chat-api writes a generated title in the background after the first reply: look again at these delays. */
export const TITLE_CHECKS_MS = [2000, 6000, 15000];

interface Following {
  timer: number;
  onTitle: (titled: Conversation) => void;
}

/**
 * Follows conversations whose first-line placeholder title (`titleSource: 'auto'`) the server is
 * about to replace: re-reads each at TITLE_CHECKS_MS until its generated title is there (handed to
 * `onTitle`) or the checks run out. One follow per conversation at a time; the owner's unmount
 * ends them all.
 */
export function useTitleFollower(): (
  conversation: Conversation,
  onTitle: (titled: Conversation) => void,
) => void {
  const following = useRef(new Map<string, Following>());

  useEffect(() => {
    const current = following.current;
    return () => {
      for (const { timer } of current.values()) window.clearTimeout(timer);
      current.clear();
    };
  }, []);

  return useCallback((conversation, onTitle) => {
    const { id } = conversation;
    if (conversation.titleSource !== 'auto' || following.current.has(id)) return;
    const check = (attempt: number) => {
      const delay = TITLE_CHECKS_MS[attempt];
      if (delay === undefined) {
        following.current.delete(id);
        return;
      }
      const timer = window.setTimeout(() => {
        api.chat.conversation(id).then(
          (fresh) => {
            // Given up meanwhile (the owner unmounted).
            if (!following.current.has(id)) return;
            if (fresh.titleSource === 'auto') return check(attempt + 1);
            following.current.delete(id);
            onTitle(fresh);
          },
          () => following.current.delete(id),
        );
      }, delay);
      following.current.set(id, { timer, onTitle });
    };
    check(0);
  }, []);
}
