import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import {
  ApiError,
  NetworkError,
  api,
  type Conversation,
  type Message,
  type ReplyEvent,
} from '../api/index.js';
import { streamError } from '../api/chat.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { fallbackLeaf, newestLeaf, pathTo, siblingsOf } from './branches.js';
import { ChatSettings } from './ChatSettings.js';
import { Composer } from './Composer.js';
import { useConversations } from './ConversationsContext.js';
import { MessageItem } from './MessageItem.js';

type ReplyRun = (signal: AbortSignal) => AsyncGenerator<ReplyEvent>;

interface ShownError {
  error: unknown;
  retry?: (() => void) | undefined;
}

/** Messages sent from the new-chat screen are carried to /c/:id once, keyed by history entry. */
const consumedHandoffs = new Set<string>();
/** Conversations whose generated title is being looked for right now. */
const followingTitles = new Set<string>();
const STOP_FALLBACK_MS = 5000;
/** chat-api writes a generated title in the background after the first reply: look again at these delays. */
const TITLE_CHECKS_MS = [2000, 6000, 15000];

/** Re-reads a conversation until its first-line placeholder title has been replaced (or we give up). */
function followGeneratedTitle(
  conversationId: string,
  onTitle: (fresh: Conversation) => void,
  attempt = 0,
): void {
  const delay = TITLE_CHECKS_MS[attempt];
  if (delay === undefined) {
    followingTitles.delete(conversationId);
    return;
  }
  followingTitles.add(conversationId);
  window.setTimeout(() => {
    api.chat.conversation(conversationId).then(
      (fresh) => {
        if (fresh.titleSource === 'auto') return followGeneratedTitle(conversationId, onTitle, attempt + 1);
        followingTitles.delete(conversationId);
        onTitle(fresh);
      },
      () => followingTitles.delete(conversationId),
    );
  }, delay);
}

export function ChatView() {
  const { id } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const list = useConversations();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [leafId, setLeafId] = useState<string | null>(null);
  /** The branch shown could not be saved (the hint says where a new message goes). */
  const [branchUnsaved, setBranchUnsaved] = useState(false);
  const [loading, setLoading] = useState(Boolean(id));
  const [loadError, setLoadError] = useState<unknown>();
  const [live, setLive] = useState<{ id: string; text: string } | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [shownError, setShownError] = useState<ShownError | null>(null);
  const [draft, setDraft] = useState('');
  const [speeds, setSpeeds] = useState<Record<string, number | null>>({});
  const [newChat, setNewChat] = useState<{ model: string; systemPrompt: string }>({
    model: '',
    systemPrompt: '',
  });
  const abortRef = useRef<AbortController | null>(null);
  const endRef = useRef<HTMLDivElement>(null);

  const load = useCallback(async (conversationId: string) => {
    setLoading(true);
    setLoadError(undefined);
    try {
      const [conv, listing] = await Promise.all([
        api.chat.conversation(conversationId),
        api.chat.messages(conversationId),
      ]);
      setConversation(conv);
      setMessages(listing.items);
      setLeafId(listing.currentMessageId ?? conv.currentMessageId ?? fallbackLeaf(listing.items));
    } catch (error) {
      setLoadError(error);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    setShownError(null);
    setLive(null);
    setSpeeds({});
    setBranchUnsaved(false);
    if (!id) {
      setConversation(null);
      setMessages([]);
      setLeafId(null);
      setLoading(false);
      return;
    }
    void load(id);
  }, [id, load]);

  const runReply = useCallback(
    async (conv: Conversation, run: ReplyRun, onEarlyFailure?: () => void, retry?: () => void) => {
      const controller = new AbortController();
      abortRef.current = controller;
      setStreaming(true);
      setShownError(null);
      let assistantId: string | null = null;
      let text = '';
      try {
        for await (const event of run(controller.signal)) {
          if (event.type === 'start') {
            const added = [...(event.userMessage ? [event.userMessage] : []), event.assistantMessage];
            assistantId = event.assistantMessage.id;
            setMessages((ms) => [...ms.filter((m) => !added.some((a) => a.id === m.id)), ...added]);
            setLeafId(assistantId);
            setLive({ id: assistantId, text: '' });
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
            if (event.type === 'error')
              setShownError({ error: streamError(event.code, event.message), retry });
          }
        }
      } catch (error) {
        if (assistantId === null && !(error instanceof DOMException)) {
          // Refused before anything was saved (rate limit, budget, model): nothing to show but why.
          onEarlyFailure?.();
          setShownError({ error, retry });
        } else {
          // Cut mid-stream (or aborted after a failed stop): the server saved what it had.
          setShownError({
            error: error instanceof DOMException ? new NetworkError('The reply stream was closed.') : error,
            retry: () => void load(conv.id),
          });
          void load(conv.id);
        }
      } finally {
        abortRef.current = null;
        setLive(null);
        setStreaming(false);
        api.chat.conversation(conv.id).then(
          (fresh) => {
            setConversation(fresh);
            list.upsert(fresh);
            if (fresh.titleSource === 'auto' && !followingTitles.has(fresh.id)) {
              followGeneratedTitle(fresh.id, (titled) => {
                list.upsert(titled);
                setConversation((open) => (open?.id === titled.id ? titled : open));
              });
            }
          },
          () => undefined,
        );
      }
    },
    [list, load],
  );

  const stop = useCallback(() => {
    if (!conversation || !abortRef.current) return;
    const controller = abortRef.current;
    const fallback = window.setTimeout(() => controller.abort(), STOP_FALLBACK_MS);
    api.chat
      .stop(conversation.id)
      .catch(() => controller.abort())
      .finally(() => window.clearTimeout(fallback));
  }, [conversation]);

  useEffect(() => {
    if (!streaming) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') stop();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [streaming, stop]);

  const sendTo = useCallback(
    (conv: Conversation, content: string) => {
      const resend = () => sendTo(conv, content);
      void runReply(
        conv,
        (signal) => api.chat.send(conv.id, content, signal),
        () => setDraft(content),
        resend,
      );
    },
    [runReply],
  );

  // A message typed on the new-chat screen, carried here after the conversation was created.
  useEffect(() => {
    const handoff = (location.state as { send?: string } | null)?.send;
    if (!handoff || !conversation || conversation.id !== id || consumedHandoffs.has(location.key)) return;
    consumedHandoffs.add(location.key);
    navigate(location.pathname, { replace: true, state: null });
    sendTo(conversation, handoff);
  }, [conversation, id, location, navigate, sendTo]);

  const send = async () => {
    const content = draft.trim();
    if (!content || streaming) return;
    setDraft('');
    if (conversation) {
      if (conversation.currentMessageId && leafId !== conversation.currentMessageId) {
        setLeafId(conversation.currentMessageId);
      }
      sendTo(conversation, content);
      return;
    }
    try {
      const created = await api.chat.createConversation({
        ...(newChat.model ? { model: newChat.model } : {}),
        ...(newChat.systemPrompt.trim() ? { systemPrompt: newChat.systemPrompt } : {}),
      });
      list.upsert(created);
      navigate(`/c/${created.id}`, { state: { send: content } });
    } catch (error) {
      setDraft(content);
      setShownError({ error, retry: () => void send() });
    }
  };

  const shown = useMemo(
    () => pathTo(messages, leafId).filter((m) => m.role !== 'system'),
    [messages, leafId],
  );
  const lastAssistant = [...shown].reverse().find((m) => m.role === 'assistant');

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'end' });
  }, [live?.text, shown.length]);

  const updateConversation = async (change: { model?: string; systemPrompt?: string | null }) => {
    if (!conversation) {
      setNewChat((c) => ({
        model: change.model ?? c.model,
        systemPrompt: change.systemPrompt === undefined ? c.systemPrompt : (change.systemPrompt ?? ''),
      }));
      return;
    }
    try {
      const updated = await api.chat.updateConversation(conversation.id, change);
      setConversation(updated);
      list.upsert(updated);
    } catch (error) {
      setShownError({ error });
    }
  };

  /** Shows another branch at once and saves it, so a reload and the next message follow it. */
  const switchBranch = async (leaf: string) => {
    setLeafId(leaf);
    if (!conversation || streaming || leaf === conversation.currentMessageId) return;
    try {
      setConversation(await api.chat.updateConversation(conversation.id, { currentMessageId: leaf }));
      setBranchUnsaved(false);
    } catch (error) {
      // Not saved: the view stays, and the hint below says a new message continues the saved branch.
      setBranchUnsaved(true);
      setShownError({ error });
    }
  };

  if (loadError !== undefined) {
    const notFound = loadError instanceof ApiError && loadError.status === 404;
    return (
      <section className="chat chat--empty">
        <ErrorNotice error={loadError} onRetry={notFound || !id ? undefined : () => void load(id)} />
      </section>
    );
  }

  const viewingOldBranch = Boolean(
    branchUnsaved && conversation?.currentMessageId && leafId && leafId !== conversation.currentMessageId,
  );

  return (
    <section className="chat" aria-label={conversation?.title || 'New chat'}>
      <ChatSettings
        model={conversation?.model ?? newChat.model}
        systemPrompt={conversation ? (conversation.systemPrompt ?? '') : newChat.systemPrompt}
        disabled={streaming}
        onChange={(change) => void updateConversation(change)}
        onModelsLoaded={(models) => {
          if (!conversation && !newChat.model && models[0])
            setNewChat((c) => ({ ...c, model: models[0]!.id }));
        }}
      />
      <div className="chat__messages" aria-busy={loading}>
        {loading && <p className="muted">Loading…</p>}
        {!loading && shown.length === 0 && (
          <div className="chat__welcome">
            <h1>What can I help with?</h1>
            <p className="muted">Replies come from your company's own models.</p>
          </div>
        )}
        {shown.map((message) => {
          const siblings = siblingsOf(messages, message);
          const index = siblings.findIndex((s) => s.id === message.id);
          const conv = conversation;
          return (
            <MessageItem
              key={message.id}
              message={message}
              liveText={live?.id === message.id ? live.text : undefined}
              tokensPerSecond={speeds[message.id]}
              busy={streaming}
              branch={
                siblings.length > 1
                  ? {
                      index,
                      count: siblings.length,
                      go: (delta) => {
                        const target = siblings[index + delta];
                        if (target) void switchBranch(newestLeaf(messages, target.id));
                      },
                    }
                  : undefined
              }
              onRegenerate={
                conv && message.role === 'assistant' && message.id === lastAssistant?.id
                  ? () => void runReply(conv, (signal) => api.chat.regenerate(conv.id, message.id, signal))
                  : undefined
              }
              onEdit={
                conv && message.role === 'user'
                  ? (content) =>
                      void runReply(conv, (signal) => api.chat.edit(conv.id, message.id, content, signal))
                  : undefined
              }
            />
          );
        })}
        <div ref={endRef} />
      </div>
      {shownError && (
        <ErrorNotice
          error={shownError.error}
          onRetry={shownError.retry}
          onDismiss={() => setShownError(null)}
        />
      )}
      {viewingOldBranch && !streaming && (
        <p className="muted chat__branch-hint">
          This branch could not be saved; a new message continues the one saved before.
        </p>
      )}
      <Composer
        value={draft}
        onChange={setDraft}
        onSend={() => void send()}
        onStop={stop}
        streaming={streaming}
        disabled={loading}
      />
    </section>
  );
}
