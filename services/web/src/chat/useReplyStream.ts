import { type Dispatch, type SetStateAction, useCallback, useEffect, useRef, useState } from 'react';
import { api, NetworkError, type Message, type ReplyEvent } from '../api/index.js';
import { streamError } from '../api/chat.js';

export type ReplyRun = (signal: AbortSignal) => AsyncGenerator<ReplyEvent>;

/** An error to show under the messages, with what "Try again" does. */
export interface ShownError {
  error: unknown;
  retry?: (() => void) | undefined;
}

export interface ReplyStreamOptions {
  setMessages: Dispatch<SetStateAction<Message[]>>;
  /** The new reply becomes the branch on screen. */
  setLeafId: (leafId: string) => void;
  /** A reply failed or was refused (null: a new reply starts, the last error goes away). */
  onError: (shown: ShownError | null) => void;
  /** The stream was cut mid-way: the server saved what it had; read the conversation again. */
  reload: (conversationId: string) => void;
  /** Every reply, however it ended: the conversation changed on the server (activity, title). */
  afterReply: (conversationId: string) => void;
}

/** How long a stop may take before the stream is simply cut. */
export const STOP_FALLBACK_MS = 5000;

/**
 * Streams replies into the message list: `run` reads a reply's events (start, tokens, done or
 * error), keeps the growing text in `live` and the reply's speed in `speeds`, and `stop` (or
 * Escape) asks the server to stop it, cutting the stream if that does not work.
 */
export function useReplyStream(options: ReplyStreamOptions) {
  const [live, setLive] = useState<{ id: string; text: string } | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [speeds, setSpeeds] = useState<Record<string, number | null>>({});
  /** A thinking model's reasoning per reply, kept on screen after it ends (it is not saved). */
  const [thoughts, setThoughts] = useState<Record<string, string>>({});
  const running = useRef<{ conversationId: string; controller: AbortController } | null>(null);
  // The latest callbacks, so `run` and `stop` stay the same functions across renders.
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });

  const run = useCallback(
    async (conversationId: string, read: ReplyRun, onEarlyFailure?: () => void, retry?: () => void) => {
      const { setMessages, setLeafId, onError, reload, afterReply } = latest.current;
      const controller = new AbortController();
      running.current = { conversationId, controller };
      setStreaming(true);
      onError(null);
      let assistantId: string | null = null;
      let text = '';
      let thinking = '';
      try {
        for await (const event of read(controller.signal)) {
          if (event.type === 'start') {
            const added = [...(event.userMessage ? [event.userMessage] : []), event.assistantMessage];
            assistantId = event.assistantMessage.id;
            setMessages((ms) => [...ms.filter((m) => !added.some((a) => a.id === m.id)), ...added]);
            setLeafId(assistantId);
            setLive({ id: assistantId, text: '' });
          } else if (event.type === 'thinking' && assistantId) {
            thinking += event.text;
            const id = assistantId;
            setThoughts((t) => ({ ...t, [id]: thinking }));
          } else if (event.type === 'token' && assistantId) {
            text += event.text;
            setLive({ id: assistantId, text });
          } else if (event.type === 'done' || event.type === 'error') {
            const summary = event.summary;
            const messageId = summary.messageId ?? assistantId;
            setMessages((ms) =>
              ms.map((m) =>
                m.id === messageId
                  ? {
                      ...m,
                      content: text,
                      status: event.type === 'error' ? 'error' : (summary.status ?? 'complete'),
                      error: event.type === 'error' ? event.message : null,
                      promptTokens: summary.promptTokens ?? m.promptTokens,
                      completionTokens: summary.completionTokens ?? m.completionTokens,
                      durationMs: summary.durationMs ?? m.durationMs,
                    }
                  : m,
              ),
            );
            if (messageId) setSpeeds((s) => ({ ...s, [messageId]: summary.tokensPerSecond ?? null }));
            if (event.type === 'error') onError({ error: streamError(event.code, event.message), retry });
          }
        }
      } catch (error) {
        if (assistantId === null && !(error instanceof DOMException)) {
          // Refused before anything was saved (rate limit, budget, model): nothing to show but why.
          onEarlyFailure?.();
          onError({ error, retry });
        } else {
          // Cut mid-stream (or aborted after a failed stop): the server saved what it had.
          onError({
            error: error instanceof DOMException ? new NetworkError('The reply stream was closed.') : error,
            retry: () => reload(conversationId),
          });
          reload(conversationId);
        }
      } finally {
        running.current = null;
        setLive(null);
        setStreaming(false);
        afterReply(conversationId);
      }
    },
    [],
  );

  /** Asks the server to stop the reply in progress; cuts the stream if it fails or takes too long. */
  const stop = useCallback(() => {
    const current = running.current;
    if (!current) return;
    const { controller } = current;
    const fallback = window.setTimeout(() => controller.abort(), STOP_FALLBACK_MS);
    api.chat
      .stop(current.conversationId)
      .catch(() => controller.abort())
      .finally(() => window.clearTimeout(fallback));
  }, []);

  useEffect(() => {
    if (!streaming) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') stop();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [streaming, stop]);

  /** Another conversation is on screen: nothing live, no speeds of the last one's replies. */
  const reset = useCallback(() => {
    setLive(null);
    setSpeeds({});
    setThoughts({});
  }, []);

  return { streaming, live, speeds, thoughts, run, stop, reset };
}
