import { AppError } from '@corral/service-kit';

/** One message too long for MAX_MESSAGE_CHARS: where, how long, and the limit. */
export function messageTooLong(path: string, length: number, max: number): AppError {
  const message = `${path}: ${length} characters; at most ${max} are accepted (MAX_MESSAGE_CHARS)`;
  return new AppError('validation_failed', message, {
    extensions: { errors: [{ path, message }], maxMessageChars: max, length },
  });
}

/**
 * The one message-size limit, the same on every path (the UI's send and edit, /v1 chat
 * completions, import): a message someone wrote (every role but `assistant`, whose text the model
 * wrote and generation bounds) of more than `max` characters is refused with 400 naming both numbers.
 */
export function assertMessageSizes(
  messages: Iterable<{ path: string; role: string; length: number }>,
  max: number,
): void {
  for (const message of messages) {
    if (message.role !== 'assistant' && message.length > max)
      throw messageTooLong(message.path, message.length, max);
  }
}
