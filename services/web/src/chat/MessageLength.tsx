import { ApiError, problemFrom } from '../api/index.js';

/** From this share of the limit on, the composer shows how many characters are used. */
const SHOW_FROM = 0.8;

const count = (n: number) => n.toLocaleString('en-US');

/** Refused before sending: what the server would answer, with both numbers. */
export function MessageTooLong(length: number, limit: number): ApiError {
  return new ApiError(
    problemFrom(
      {
        code: 'validation_failed',
        title: 'Message too long',
        detail: `${count(length)} characters; at most ${count(limit)} are accepted. Shorten it by ${count(length - limit)}.`,
      },
      400,
    ),
  );
}

/** The characters used against the model's limit, once the message is close to it. */
export function MessageLength({ length, limit }: { length: number; limit: number | undefined }) {
  if (limit === undefined || length < limit * SHOW_FROM) return null;
  const over = length > limit;
  return (
    <p className={`message-length${over ? ' message-length--over' : ''}`} role="status">
      {count(length)} / {count(limit)} characters
      {over ? ` — ${count(length - limit)} over the limit` : ''}
    </p>
  );
}
