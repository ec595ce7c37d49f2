import { type Dispatch, type SetStateAction, useCallback, useEffect, useRef, useState } from 'react';
import { api, NetworkError, type Message, type ReplyEvent } from '../api/index.js';
import { streamError } from '../api/chat.js';

export type ReplyRun = (signal: AbortSignal) => AsyncGenerator<ReplyEvent>;
/** Reads a reply's events after position `after` (chat-api's resume route, Last-Event-ID). */
export type ReplyResume = (
  conversationId: string,
  messageId: string,
  after: number,
  signal: AbortSignal,
) => AsyncGenerator<ReplyEvent>;

/** An error to show under the messages, with what "Try again" does. */
export interface ShownError {
  error: unknown;
  retry?: (() => void) | undefined;
}

export interface ReplyStreamOptions {
  /** The conversation on screen: only its replies touch the message list, Stop and Escape. */
  shownConversationId: string | null;
  setMessages: Dispatch<SetStateAction<Message[]>>;
  /** The new reply becomes the branch on screen. */
  setLeafId: (leafId: string) => void;
  /** A reply failed or was refused (null: a new reply starts, the last error goes away). */
  onError: (shown: ShownError | null) => void;
  /** The stream was cut and could not be resumed: the server saved what it had; read the conversation again. */
  reload: (conversationId: string) => void;
  /** Every reply, however it ended: the conversation changed on the server (activity, title). */
  afterReply: (conversationId: string) => void;
  /** Which conversations have a reply streaming here (the sidebar marks them). */
  onReplying?: (conversationId: string, replying: boolean) => void;
  /** Where a lost stream is picked up again (api.chat.resume unless a test says otherwise). */
  resume?: ReplyResume;
}

/** How long a stop may take before the stream is simply cut. */
export const STOP_FALLBACK_MS = 5000;
/** How often a lost reply stream is picked up again before the conversation is simply reloaded. */
export const RESUME_ATTEMPTS = 5;
/** The wait before the n-th attempt to resume is this times n. */
const RESUME_BACKOFF_MS = 500;

/** A reply streaming for one conversation (on screen or not). */
interface Running {
  controller: AbortController;
  /** The reply being written, once known. */
  messageId: string | null;
  text: string;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(timer);
      resolve();
    });
  });

/**
 * Streams replies into the message list: `run` reads a reply's events (start, tokens, done or
 * error), keeps the growing text per conversation (a reply goes on while another conversation is
 * on screen, and shows again on return), picks a lost stream up where it was (Last-Event-ID), and
 * `follow` joins a reply already being written (after a reload, in a second tab). `stop` (or
 * Escape) asks the server to stop the reply of the conversation on screen.
 */
export function useReplyStream(options: ReplyStreamOptions) {
  const [running, setRunning] = useState<Record<string, { id: string | null; text: string }>>({});
  const [speeds, setSpeeds] = useState<Record<string, number | null>>({});
  /** A thinking model's reasoning per reply as it streams (the saved copy comes with the messages). */
  const [thoughts, setThoughts] = useState<Record<string, string>>({});
  const runs = useRef(new Map<string, Running>());
  // The latest callbacks, so `run` and `stop` stay the same functions across renders.
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });

  const shownId = options.shownConversationId;
  const shownRun = shownId ? running[shownId] : undefined;
  const streaming = shownRun !== undefined;
  const live = shownRun?.id ? { id: shownRun.id, text: shownRun.text } : null;

  const run = useCallback(
    async (
      conversationId: string,
      read: ReplyRun,
      onEarlyFailure?: () => void,
      retry?: () => void,
      following?: { messageId: string; text: string },
      onStarted?: (conversationId: string) => void,
    ) => {
      const onScreen = () => latest.current.shownConversationId === conversationId;
      const { reload, afterReply, onReplying } = latest.current;
      const resume = latest.current.resume ?? api.chat.resume;
      runs.current.get(conversationId)?.controller.abort();
      const controller = new AbortController();
      const current: Running = { controller, messageId: following?.messageId ?? null, text: '' };
      runs.current.set(conversationId, current);
      const show = () => {
        if (runs.current.get(conversationId) !== current) return;
        setRunning((all) => ({ ...all, [conversationId]: { id: current.messageId, text: current.text } }));
      };
      setRunning((all) => ({
        ...all,
        [conversationId]: { id: current.messageId, text: following?.text ?? '' },
      }));
      onReplying?.(conversationId, true);
      if (onScreen()) latest.current.onError(null);
      // Tokens are numbered from 1 in the reply (their SSE ids): the count seen is where to resume.
      let position = 0;
      let reader = read;
      let attempts = 0;
      try {
        for (;;) {
          try {
            for await (const event of reader(controller.signal)) {
              attempts = 0;
              if (event.type === 'start') {
                const added = [...(event.userMessage ? [event.userMessage] : []), event.assistantMessage];
                current.messageId = event.assistantMessage.id;
                onStarted?.(event.conversationId);
                if (onScreen()) {
                  latest.current.setMessages((ms) => [
                    ...ms.filter((m) => !added.some((a) => a.id === m.id)),
                    ...added,
                  ]);
                  latest.current.setLeafId(current.messageId);
                }
                show();
              } else if (event.type === 'thinking' && current.messageId) {
                const id = current.messageId;
                const text = event.text;
                setThoughts((t) => ({ ...t, [id]: (t[id] ?? '') + text }));
              } else if (event.type === 'token' && current.messageId) {
                position += 1;
                current.text += event.text;
                show();
              } else if (event.type === 'snapshot' && current.messageId) {
                // The whole text so far, not numbered: a later resume starts from the beginning.
                position = 0;
                current.text = event.text;
                show();
              } else if (event.type === 'done' || event.type === 'error') {
                const summary = event.summary;
                const messageId = summary.messageId ?? current.messageId;
                const text = current.text;
                if (onScreen()) {
                  latest.current.setMessages((ms) =>
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
                  if (event.type === 'error')
                    latest.current.onError({ error: streamError(event.code, event.message), retry });
                }
                if (messageId) setSpeeds((s) => ({ ...s, [messageId]: summary.tokensPerSecond ?? null }));
              }
            }
            break;
          } catch (error) {
            const messageId = current.messageId;
            if (messageId === null && !(error instanceof DOMException)) {
              // Refused before anything was saved (rate limit, budget, model): nothing to show but why.
              if (onScreen()) {
                onEarlyFailure?.();
                latest.current.onError({ error, retry });
              }
              break;
            }
            const cut = !(error instanceof DOMException) && error instanceof NetworkError;
            if (cut && messageId && attempts < RESUME_ATTEMPTS && !controller.signal.aborted) {
              // The connection dropped: the reply goes on on the server; pick it up where it was.
              attempts += 1;
              await wait(RESUME_BACKOFF_MS * attempts, controller.signal);
              const after = position;
              if (after === 0) current.text = '';
              reader = (signal) => resume(conversationId, messageId, after, signal);
              continue;
            }
            if (runs.current.get(conversationId) !== current) break;
            // Cut for good (or aborted after a failed stop): the server saved what it had.
            if (onScreen()) {
              latest.current.onError({
                error:
                  error instanceof DOMException ? new NetworkError('The reply stream was closed.') : error,
                retry: () => reload(conversationId),
              });
              reload(conversationId);
            }
            break;
          }
        }
      } finally {
        if (runs.current.get(conversationId) === current) {
          runs.current.delete(conversationId);
          setRunning((all) => {
            const { [conversationId]: _ended, ...rest } = all;
            return rest;
          });
          onReplying?.(conversationId, false);
          afterReply(conversationId);
        }
      }
    },
    [],
  );

  /** Joins a reply already being written (after a reload, in another tab) from its first token. */
  const follow = useCallback(
    (conversationId: string, message: Pick<Message, 'id' | 'content'>) => {
      if (runs.current.has(conversationId)) return;
      const resume = latest.current.resume ?? api.chat.resume;
      void run(
        conversationId,
        (signal) => resume(conversationId, message.id, 0, signal),
        undefined,
        undefined,
        { messageId: message.id, text: message.content },
      );
    },
    [run],
  );

  /** Asks the server to stop the reply of the conversation on screen; cuts the stream if that fails or takes too long. */
  const stop = useCallback(() => {
    const conversationId = latest.current.shownConversationId;
    if (!conversationId) return;
    const current = runs.current.get(conversationId);
    if (!current) return;
    const { controller } = current;
    const fallback = window.setTimeout(() => controller.abort(), STOP_FALLBACK_MS);
    api.chat
      .stop(conversationId)
      .catch(() => controller.abort())
      .finally(() => window.clearTimeout(fallback));
  }, []);

  useEffect(() => {
    if (!streaming) return undefined;
    const onKey = (event: KeyboardEvent) => {
      // Shift+Esc focuses the message box; an Esc a dialog or menu took is not for the reply.
      if (event.key === 'Escape' && !event.shiftKey && !event.defaultPrevented) stop();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [streaming, stop]);

  // Leaving the chat screen lets go of every stream (the replies go on and are saved on the server).
  useEffect(() => {
    const all = runs.current;
    return () => {
      for (const current of all.values()) current.controller.abort();
      all.clear();
    };
  }, []);

  /** Another conversation is on screen: no speeds of the last one's replies. */
  const reset = useCallback(() => setSpeeds({}), []);

  /** Whether a reply of this conversation is streaming here. */
  const isRunning = useCallback((conversationId: string) => runs.current.has(conversationId), []);

  return { streaming, live, speeds, thoughts, run, follow, stop, reset, isRunning };
}
