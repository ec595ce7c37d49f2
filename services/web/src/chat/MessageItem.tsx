import { Suspense, lazy, useState } from 'react';
import type { Message } from '../api/index.js';
import { AttachedImage } from './AttachedImage.js';
import { ReplyActions } from './ReplyActions.js';

const Markdown = lazy(() => import('../markdown/Markdown.js'));

export interface BranchInfo {
  index: number;
  count: number;
  go: (delta: -1 | 1) => void;
}

interface Props {
  message: Message;
  /** Text streamed so far, while this is the reply being written. */
  liveText?: string | undefined;
  /** A thinking model's reasoning streamed so far, while this is the reply being written. */
  liveThinking?: string | undefined;
  tokensPerSecond?: number | null | undefined;
  branch?: BranchInfo | undefined;
  busy: boolean;
  onRegenerate?: (() => void) | undefined;
  onEdit?: ((content: string) => void) | undefined;
}

const STATUS_NOTE: Partial<Record<Message['status'], string>> = {
  stopped: 'Stopped — the partial reply above was saved.',
  interrupted: 'Interrupted — the reply was cut off; this is what was saved.',
  error: 'The reply failed.',
};

export function formatStats(message: Message, tokensPerSecond?: number | null): string | null {
  const tokens = message.completionTokens;
  if (tokens == null) return null;
  const seconds = message.durationMs != null ? message.durationMs / 1000 : null;
  const speed = tokensPerSecond ?? (seconds && seconds > 0 ? tokens / seconds : null);
  const parts = [`${tokens} token${tokens === 1 ? '' : 's'}`];
  if (speed != null) parts.push(`${speed.toFixed(1)} tok/s`);
  if (seconds != null) parts.push(`${seconds.toFixed(1)} s`);
  return parts.join(' · ');
}

export function MessageItem({
  message,
  liveText,
  liveThinking,
  tokensPerSecond,
  branch,
  busy,
  onRegenerate,
  onEdit,
}: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const text = liveText ?? message.content;
  // The stored reasoning once the reply is saved (a reload, another tab), the live one until then.
  const thinking = liveThinking || message.reasoning;
  const streaming = liveText !== undefined;
  const stats = streaming ? null : formatStats(message, tokensPerSecond);
  const note = streaming ? undefined : STATUS_NOTE[message.status];
  const who =
    message.role === 'user'
      ? 'You'
      : message.role === 'assistant'
        ? (message.model ?? 'Assistant')
        : 'System';

  return (
    <article
      className={`message message--${message.role} message--${streaming ? 'streaming' : message.status}`}
      aria-label={`${message.role === 'user' ? 'Your message' : 'Reply'}`}
      data-message-id={message.id}
    >
      <header className="message__who">{who}</header>
      {message.attachments.length > 0 && (
        <div className="message__images">
          {message.attachments.map((attachment) => (
            <AttachedImage
              key={attachment.id}
              conversationId={message.conversationId}
              attachment={attachment}
            />
          ))}
        </div>
      )}
      {thinking && (
        <details className="message__thinking">
          <summary>{text || !streaming ? 'Thought' : 'Thinking…'}</summary>
          <p>{thinking}</p>
        </details>
      )}
      {editing ? (
        <form
          className="message__edit"
          onSubmit={(e) => {
            e.preventDefault();
            setEditing(false);
            if (draft.trim() && onEdit) onEdit(draft);
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            Edit message
          </label>
          <textarea
            id={`edit-${message.id}`}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            rows={3}
            autoFocus
          />
          <div className="row">
            <button type="submit" className="btn btn--primary btn--small">
              Save &amp; send
            </button>
            <button type="button" className="btn btn--small" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : message.role === 'assistant' ? (
        <div className="message__body" aria-live={streaming ? 'polite' : undefined} aria-busy={streaming}>
          <Suspense fallback={<p className="plain-text">{text}</p>}>
            <Markdown text={text} />
          </Suspense>
          {streaming && <span className="cursor" aria-hidden="true" />}
        </div>
      ) : (
        <div className="message__body plain-text">{text}</div>
      )}
      {note && (
        <p className={`message__note message__note--${message.status}`}>
          {note}
          {message.status === 'error' && message.error ? ` ${message.error}` : ''}
        </p>
      )}
      <footer className="message__meta">
        {branch && branch.count > 1 && (
          <span className="branch-nav" aria-label="Branches">
            <button
              type="button"
              className="btn btn--icon btn--ghost"
              aria-label="Previous branch"
              disabled={busy || branch.index === 0}
              onClick={() => branch.go(-1)}
            >
              ‹
            </button>
            <span>
              {branch.index + 1}/{branch.count}
            </span>
            <button
              type="button"
              className="btn btn--icon btn--ghost"
              aria-label="Next branch"
              disabled={busy || branch.index === branch.count - 1}
              onClick={() => branch.go(1)}
            >
              ›
            </button>
          </span>
        )}
        {stats && <span className="message__stats">{stats}</span>}
        {message.role === 'assistant' && !streaming && message.status !== 'streaming' && (
          <ReplyActions message={message} />
        )}
        {onEdit && !editing && (
          <button
            type="button"
            className="btn btn--small btn--ghost"
            disabled={busy}
            onClick={() => {
              setDraft(message.content);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
        {onRegenerate && (
          <button type="button" className="btn btn--small btn--ghost" disabled={busy} onClick={onRegenerate}>
            Regenerate
          </button>
        )}
      </footer>
    </article>
  );
}
