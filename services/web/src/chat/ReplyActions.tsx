import { useEffect, useState } from 'react';
import type { FeedbackRating } from '@corral/contracts';
import { api, type Message } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { useReplyFeedback } from './reply-feedback.js';
import './organize.css';

/** How long "Copied" stays on the button. */
const COPIED_MS = 2000;

/** Writes `text` to the clipboard; the older copy command where the Clipboard API is missing. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('The browser did not allow copying.');
}

function Thumb({ down = false }: { down?: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      style={down ? { transform: 'rotate(180deg)' } : undefined}
    >
      <path
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinejoin="round"
        d="M7 10v11H3V10h4zm0 0 4-8a3 3 0 0 1 3 3v4h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H7"
      />
    </svg>
  );
}

/** Under a finished reply: copy its markdown source, and rate it (thumbs up/down, optional comment). */
export function ReplyActions({ message }: { message: Message }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const [feedback, setFeedback] = useReplyFeedback(message.conversationId, message.id);
  const [commenting, setCommenting] = useState(false);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    if (!copied) return undefined;
    const timer = window.setTimeout(() => setCopied(null), COPIED_MS);
    return () => window.clearTimeout(timer);
  }, [copied]);

  const copy = () =>
    copyText(message.content).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );

  const save = async (rating: FeedbackRating, text: string | null) => {
    setError(undefined);
    try {
      setFeedback(await api.organize.rate(message.conversationId, message.id, { rating, comment: text }));
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    }
  };

  const rate = async (rating: FeedbackRating) => {
    setError(undefined);
    if (feedback?.rating === rating) {
      // Pressed again: the rating is taken back.
      try {
        await api.organize.unrate(message.conversationId, message.id);
        setFeedback(undefined);
        setCommenting(false);
      } catch (caught) {
        setError(caught);
      }
      return;
    }
    if (await save(rating, feedback?.comment ?? null)) {
      setComment(feedback?.comment ?? '');
      setCommenting(true);
    }
  };

  return (
    <span className="reply-actions">
      <button type="button" className="btn btn--small btn--ghost" onClick={() => void copy()}>
        {copied === 'yes' ? 'Copied' : 'Copy'}
      </button>
      <span className="visually-hidden" role="status">
        {copied === 'yes'
          ? 'Reply copied to the clipboard.'
          : copied === 'failed'
            ? 'Could not copy the reply.'
            : ''}
      </span>
      <button
        type="button"
        className="btn btn--icon btn--ghost"
        aria-label="Good reply"
        aria-pressed={feedback?.rating === 'up'}
        onClick={() => void rate('up')}
      >
        <Thumb />
      </button>
      <button
        type="button"
        className="btn btn--icon btn--ghost"
        aria-label="Bad reply"
        aria-pressed={feedback?.rating === 'down'}
        onClick={() => void rate('down')}
      >
        <Thumb down />
      </button>
      {commenting && feedback && (
        <form
          className="reply-actions__comment"
          onSubmit={(e) => {
            e.preventDefault();
            void save(feedback.rating, comment.trim() || null).then((ok) => ok && setCommenting(false));
          }}
        >
          <input
            aria-label="Comment on this reply (optional)"
            placeholder="What was good or bad? (optional)"
            value={comment}
            autoFocus
            onChange={(e) => setComment(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setCommenting(false);
            }}
          />
          <button type="submit" className="btn btn--small">
            Send feedback
          </button>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </span>
  );
}
