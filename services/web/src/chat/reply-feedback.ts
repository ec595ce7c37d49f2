import { useCallback, useEffect, useState } from 'react';
import type { Feedback } from '@corral/contracts';
import { api } from '../api/index.js';

/**
 * The feedback on one conversation's replies, read once per conversation however many replies
 * ask (one request when a chat opens), and kept as the user rates.
 */
const loaded = new Map<string, Promise<Map<string, Feedback>>>();

function feedbackOf(conversationId: string): Promise<Map<string, Feedback>> {
  let entry = loaded.get(conversationId);
  if (!entry) {
    entry = api.organize
      .feedback(conversationId)
      .then((items) => new Map(items.map((f) => [f.messageId, f])));
    // A failed read is tried again by the next reply that asks.
    entry.catch(() => loaded.delete(conversationId));
    loaded.set(conversationId, entry);
  }
  return entry;
}

/** This reply's feedback (undefined: none) and a setter that keeps the shared copy in step. */
export function useReplyFeedback(
  conversationId: string,
  messageId: string,
): [Feedback | undefined, (next: Feedback | undefined) => void] {
  const [feedback, setFeedback] = useState<Feedback | undefined>();
  useEffect(() => {
    let current = true;
    feedbackOf(conversationId).then(
      (byMessage) => {
        if (current) setFeedback(byMessage.get(messageId));
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [conversationId, messageId]);
  const update = useCallback(
    (next: Feedback | undefined) => {
      setFeedback(next);
      void loaded.get(conversationId)?.then((byMessage) => {
        if (next) byMessage.set(messageId, next);
        else byMessage.delete(messageId);
      });
    },
    [conversationId, messageId],
  );
  return [feedback, update];
}
