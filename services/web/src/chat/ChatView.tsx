import { useCallback, useEffect, useRef, useState } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import { normalizeModelName } from '@corral/contracts';
import { ApiError, api, type Conversation, type ModelInfo } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { fallbackLeaf } from './branches.js';
import { ChatSettings } from './ChatSettings.js';
import { ChatTitle } from './ChatTitle.js';
import { Composer, type PendingImage } from './Composer.js';
import { useConversations } from './ConversationsContext.js';
import { useDraft, useFollowScroll, usePendingImages } from './chat-view-hooks.js';
import { MessageLength, MessageTooLong } from './MessageLength.js';
import { MessageItem } from './MessageItem.js';
import { useBranches } from './useBranches.js';
import { startRequest, useAssistants } from './assistant-choice.js';
import { ShareButton } from './ShareButton.js';
import { type ShownError, useReplyStream } from './useReplyStream.js';

/** What the reply hook calls the new-chat screen (its first message makes the conversation). */
const NEW_CHAT = 'new';

export function ChatView() {
  const { id } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const list = useConversations();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [loading, setLoading] = useState(Boolean(id));
  const [loadError, setLoadError] = useState<unknown>();
  const [shownError, setShownError] = useState<ShownError | null>(null);
  const [images, setImages] = useState<PendingImage[]>([]);
  const [models, setModels] = useState<ModelInfo[]>([]);
  const assistants = useAssistants();
  const draftKey = id ?? NEW_CHAT;
  const [draft, setDraft] = useDraft(draftKey);
  const [newChat, setNewChat] = useState<{ model: string; systemPrompt: string }>({
    model: '',
    systemPrompt: '',
  });
  /** Messages sent from the new-chat screen with images are carried to /c/:id once, keyed by history entry. */
  const consumedHandoffs = useRef(new Set<string>());
  const endRef = useRef<HTMLDivElement>(null);
  const branches = useBranches();
  const { show: showMessages, clearUnsaved, setMessages, setLeafId, leafId, shown } = branches;

  const load = useCallback(
    async (conversationId: string) => {
      setLoading(true);
      setLoadError(undefined);
      try {
        const [conv, listing] = await Promise.all([
          api.chat.conversation(conversationId),
          api.chat.messages(conversationId),
        ]);
        setConversation(conv);
        showMessages(
          listing.items,
          listing.currentMessageId ?? conv.currentMessageId ?? fallbackLeaf(listing.items),
        );
      } catch (error) {
        // Nothing stale under this address: the notice says why, with a retry.
        setConversation(null);
        showMessages([], null);
        setLoadError(error);
      } finally {
        setLoading(false);
      }
    },
    [showMessages],
  );

  const replies = useReplyStream({
    shownConversationId: id ?? NEW_CHAT,
    onReplying: list.markReplying,
    setMessages,
    setLeafId,
    onError: setShownError,
    reload: (conversationId) => void load(conversationId),
    afterReply: (conversationId) =>
      // A new chat's first reply runs under the placeholder; its conversation is read when it is made.
      conversationId !== NEW_CHAT &&
      api.chat.conversation(conversationId).then(
        (fresh) => {
          // Only the conversation on screen: a reply may end while the user reads another one.
          setConversation((open) => (open?.id === fresh.id ? fresh : open));
          list.upsert(fresh);
          list.followTitle(fresh, (titled) =>
            setConversation((open) => (open?.id === titled.id ? titled : open)),
          );
        },
        () => undefined,
      ),
  });
  const {
    streaming,
    live,
    speeds,
    thoughts,
    run: runReply,
    reset: resetReplies,
    follow,
    isRunning,
  } = replies;

  // A reply still being written when the conversation is opened (a reload, a second tab, coming
  // back to it): follow it to the end rather than show a frozen half.
  const loadedMessages = branches.messages;
  useEffect(() => {
    if (!conversation || conversation.id !== id || isRunning(conversation.id)) return;
    const writing = [...loadedMessages]
      .reverse()
      .find(
        (m) => m.role === 'assistant' && m.status === 'streaming' && m.conversationId === conversation.id,
      );
    if (writing) follow(conversation.id, writing);
  }, [conversation, id, loadedMessages, follow, isRunning]);

  useEffect(() => {
    setShownError(null);
    resetReplies();
    clearUnsaved();
    if (!id) {
      setConversation(null);
      showMessages([], null);
      setLoading(false);
      return;
    }
    void load(id);
  }, [id, load, resetReplies, clearUnsaved, showMessages]);

  const sendTo = useCallback(
    (conv: Conversation, content: string, attachmentIds: string[] = []) => {
      const resend = () => sendTo(conv, content, attachmentIds);
      void runReply(
        conv.id,
        (signal) => api.chat.send(conv.id, content, attachmentIds, signal),
        () => setDraft(content, conv.id),
        resend,
      );
    },
    [runReply],
  );

  // A message typed on the new-chat screen, carried here after the conversation was created.
  useEffect(() => {
    const state = location.state as { send?: string; attachmentIds?: string[] } | null;
    const handoff = state?.send;
    if (
      handoff === undefined ||
      !conversation ||
      conversation.id !== id ||
      consumedHandoffs.current.has(location.key)
    )
      return;
    consumedHandoffs.current.add(location.key);
    navigate(location.pathname, { replace: true, state: null });
    sendTo(conversation, handoff, state?.attachmentIds ?? []);
  }, [conversation, id, location, navigate, sendTo]);

  const currentModel = conversation?.model ?? newChat.model;
  const messageLimit = models.find((m) => m.id === currentModel)?.maxMessageChars;
  const takesImages = models.some(
    (m) => normalizeModelName(m.id) === normalizeModelName(currentModel) && m.capabilities.includes('vision'),
  );
  const { addImages, removeImage } = usePendingImages(id, setImages);

  /** Uploads the chosen images into the conversation; their ids, or null (the error is shown). */
  const uploadImages = async (conversationId: string, chosen: PendingImage[]): Promise<string[] | null> => {
    try {
      const ids: string[] = [];
      for (const image of chosen) ids.push((await api.chat.uploadAttachment(conversationId, image.file)).id);
      return ids;
    } catch (error) {
      setShownError({ error });
      return null;
    }
  };

  const send = async () => {
    const content = draft.trim();
    const chosen = takesImages ? images : [];
    if ((!content && chosen.length === 0) || streaming) return;
    if (messageLimit !== undefined && content.length > messageLimit) {
      setShownError({ error: MessageTooLong(content.length, messageLimit) });
      return;
    }
    setDraft('');
    setFollow(true);
    if (conversation) {
      const attachmentIds = await uploadImages(conversation.id, chosen);
      if (attachmentIds === null) {
        setDraft(content);
        return;
      }
      setImages([]);
      if (conversation.currentMessageId && leafId !== conversation.currentMessageId) {
        setLeafId(conversation.currentMessageId);
      }
      sendTo(conversation, content, attachmentIds);
      return;
    }
    if (chosen.length === 0) {
      startChat(startRequest(newChat, content));
      return;
    }
    // Images are stored under a conversation: it is made first, and deleted if they are refused.
    try {
      const created = await api.chat.createConversation({
        ...(newChat.model ? { model: newChat.model } : {}),
        ...(newChat.systemPrompt.trim() ? { systemPrompt: newChat.systemPrompt } : {}),
      });
      const attachmentIds = await uploadImages(created.id, chosen);
      if (attachmentIds === null) {
        // Refused (too large, quota full, not an image): nothing is sent, the draft and images stay.
        setDraft(content);
        void api.chat.deleteConversation(created.id).catch(() => undefined);
        return;
      }
      list.upsert(created);
      navigate(`/c/${created.id}`, { state: { send: content, attachmentIds } });
    } catch (error) {
      setDraft(content);
      setShownError({ error, retry: () => void send() });
    }
  };

  /** A new chat and its first message, one step: a refused message (a limit, its length) leaves no empty chat behind. */
  const startChat = (input: Parameters<typeof api.chat.start>[0]) => {
    void runReply(
      NEW_CHAT,
      (signal) => api.chat.start(input, signal),
      () => setDraft(input.content, NEW_CHAT),
      () => {
        setDraft('');
        startChat(input);
      },
      undefined,
      (conversationId) => {
        // The chat exists now: its page follows the reply (resumed from the first token).
        navigate(`/c/${conversationId}`);
        void api.chat.conversation(conversationId).then(list.upsert, () => list.reload());
      },
    );
  };

  const lastAssistant = [...shown].reverse().find((m) => m.role === 'assistant');

  const { messagesRef, following, setFollow, onMessagesScroll, onMessagesWheel, jumpToLatest } =
    useFollowScroll(id, endRef, [live?.text, shown.length]);

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
  const switchBranch = (leaf: string) =>
    branches.switchBranch(conversation, leaf, streaming).then(
      (saved) => {
        if (saved) setConversation(saved);
      },
      // Not saved: the view stays, and the hint below says a new message continues the saved branch.
      (error: unknown) => setShownError({ error }),
    );

  // Only a conversation that does not exist replaces the view; anything else (a 429, the network)
  // is a notice above the composer, with the time to wait and a retry.
  if (loadError instanceof ApiError && loadError.status === 404) {
    return (
      <section className="chat chat--empty">
        <ErrorNotice error={loadError} />
      </section>
    );
  }

  const viewingOldBranch = branches.viewingUnsavedBranch(conversation);

  return (
    <section className="chat" aria-label={conversation?.title || 'New chat'}>
      <ChatSettings
        model={conversation?.model ?? newChat.model}
        systemPrompt={conversation ? (conversation.systemPrompt ?? '') : newChat.systemPrompt}
        disabled={streaming}
        onChange={(change) => void updateConversation(change)}
        assistants={conversation ? undefined : assistants}
        assistantName={conversation?.assistantName}
        onModelsLoaded={(loaded) => {
          setModels(loaded);
          if (!conversation && !newChat.model && loaded[0])
            setNewChat((c) => ({ ...c, model: loaded[0]!.id }));
        }}
      />
      {conversation && <ShareButton conversationId={conversation.id} disabled={streaming} />}
      <div
        className="chat__messages"
        aria-busy={loading}
        ref={messagesRef}
        onScroll={onMessagesScroll}
        onWheel={onMessagesWheel}
      >
        <ChatTitle title={conversation?.title} shown={shown.length > 0} />
        {loading && <p className="muted">Loading…</p>}
        {!loading && shown.length === 0 && loadError === undefined && (
          <div className="chat__welcome">
            <h1>What can I help with?</h1>
            <p className="muted">Replies come from your company's own models.</p>
          </div>
        )}
        {shown.map((message) => {
          const conv = conversation;
          return (
            <MessageItem
              key={message.id}
              message={message}
              liveText={live?.id === message.id ? live.text : undefined}
              liveThinking={thoughts[message.id]}
              tokensPerSecond={speeds[message.id]}
              busy={streaming}
              branch={branches.branchAt(message, (leaf) => void switchBranch(leaf))}
              onRegenerate={
                conv && message.role === 'assistant' && message.id === lastAssistant?.id
                  ? () => void runReply(conv.id, (signal) => api.chat.regenerate(conv.id, message.id, signal))
                  : undefined
              }
              onEdit={
                conv && message.role === 'user'
                  ? (content) =>
                      void runReply(conv.id, (signal) => api.chat.edit(conv.id, message.id, content, signal))
                  : undefined
              }
            />
          );
        })}
        <div ref={endRef} />
        {!following && shown.length > 0 && (
          <button type="button" className="btn btn--small chat__jump" onClick={jumpToLatest}>
            ↓ Jump to latest
          </button>
        )}
      </div>
      {loadError !== undefined && id && <ErrorNotice error={loadError} onRetry={() => void load(id)} />}
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
        onStop={replies.stop}
        streaming={streaming}
        disabled={loading || (loadError !== undefined && Boolean(id))}
        images={takesImages ? images : []}
        onAddImages={takesImages ? addImages : undefined}
        onRemoveImage={removeImage}
      />
      <MessageLength length={draft.trim().length} limit={messageLimit} />
    </section>
  );
}
