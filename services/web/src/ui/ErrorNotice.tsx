import { useEffect, useState } from 'react';
import { describeError } from '../api/index.js';

interface Props {
  error: unknown;
  onRetry?: (() => void) | undefined;
  onDismiss?: (() => void) | undefined;
}

/** One way to show a failure: what happened, how long to wait, and a retry when it can help. */
export function ErrorNotice({ error, onRetry, onDismiss }: Props) {
  const description = describeError(error);
  // "Invalid email or password" + "Invalid email or password.": one sentence is enough.
  const repeats = sameWords(description.title, description.message);
  const [secondsLeft, setSecondsLeft] = useState(description.retryAfterSeconds ?? 0);
  useEffect(() => {
    setSecondsLeft(description.retryAfterSeconds ?? 0);
  }, [error, description.retryAfterSeconds]);
  useEffect(() => {
    if (secondsLeft <= 0) return undefined;
    const timer = window.setTimeout(() => setSecondsLeft((s) => s - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [secondsLeft]);

  return (
    <div className={`notice notice--error notice--${description.kind}`} role="alert">
      <div className="notice__text">
        <strong>{description.title}</strong>
        {!repeats && <span>{description.message}</span>}
        {secondsLeft > 0 && description.retryable && (
          <span className="notice__wait" aria-live="polite">
            Retry possible in {secondsLeft}s
          </span>
        )}
      </div>
      <div className="notice__actions">
        {onRetry && description.retryable && (
          <button type="button" className="btn" onClick={onRetry} disabled={secondsLeft > 0}>
            Retry
          </button>
        )}
        {onDismiss && (
          <button type="button" className="btn btn--ghost" onClick={onDismiss} aria-label="Dismiss error">
            ✕
          </button>
        )}
      </div>
    </div>
  );
}

const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

function sameWords(a: string, b: string): boolean {
  return words(a) === words(b);
}
