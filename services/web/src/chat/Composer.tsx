import { type KeyboardEvent, useEffect, useRef } from 'react';
import { useMediaQuery } from '../ui/useMediaQuery.js';

/** The phone layout's one-line composer cuts off anything longer than a word or two. */
export const PLACEHOLDER = {
  wide: 'Send a message (Enter sends, Shift+Enter adds a line)',
  narrow: 'Message',
};
const NARROW = '(max-width: 480px)';

interface Props {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  onStop: () => void;
  streaming: boolean;
  disabled?: boolean;
}

/** Enter sends, Shift+Enter adds a line, Esc (anywhere in the chat) stops a reply. */
export function Composer({ value, onChange, onSend, onStop, streaming, disabled }: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const narrow = useMediaQuery(NARROW);
  useEffect(() => {
    const node = ref.current;
    if (!node) return;
    node.style.height = 'auto';
    node.style.height = `${Math.min(node.scrollHeight, 240)}px`;
  }, [value]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (!streaming && value.trim()) onSend();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        if (!streaming && value.trim()) onSend();
      }}
    >
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder={narrow ? PLACEHOLDER.narrow : PLACEHOLDER.wide}
        aria-describedby="composer-hint"
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <span id="composer-hint" className="visually-hidden">
        Enter sends, Shift+Enter adds a new line, Escape stops a reply.
      </span>
      {streaming ? (
        <button type="button" className="btn btn--danger" onClick={onStop} aria-keyshortcuts="Escape">
          ■ Stop
        </button>
      ) : (
        <button
          type="submit"
          className="btn btn--primary"
          disabled={disabled || !value.trim()}
          aria-label="Send message"
        >
          Send
        </button>
      )}
    </form>
  );
}
