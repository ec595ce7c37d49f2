import { type ClipboardEvent, type DragEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useMediaQuery } from '../ui/useMediaQuery.js';
import { useRestoredFocus } from './useRestoredFocus.js';
import { PromptMenu, usePromptMenu } from './PromptMenu.js';

/** The phone layout's one-line composer cuts off anything longer than a word or two. */
export const PLACEHOLDER = {
  wide: 'Send a message (Enter sends, Shift+Enter adds a line)',
  narrow: 'Message',
};
const NARROW = '(max-width: 480px)';

/** An image chosen for the next message, shown as a preview until it is sent. */
export interface PendingImage {
  key: string;
  file: File;
  /** An object URL for the preview. */
  url: string;
}

interface Props {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  onStop: () => void;
  streaming: boolean;
  disabled?: boolean;
  /** Images to send with the message; attaching is offered only when `onAddImages` is given. */
  images?: PendingImage[];
  onAddImages?: ((files: File[]) => void) | undefined;
  onRemoveImage?: (key: string) => void;
}

const imagesIn = (files: Iterable<File>) => [...files].filter((file) => file.type.startsWith('image/'));

/** Enter sends, Shift+Enter adds a line, Esc (anywhere in the chat) stops a reply. */
export function Composer({
  value,
  onChange,
  onSend,
  onStop,
  streaming,
  disabled,
  images = [],
  onAddImages,
  onRemoveImage,
}: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const sendable = Boolean(value.trim()) || images.length > 0;
  const narrow = useMediaQuery(NARROW);
  const promptMenu = usePromptMenu(value, onChange, ref);
  useEffect(() => {
    const node = ref.current;
    if (!node) return;
    node.style.height = 'auto';
    node.style.height = `${Math.min(node.scrollHeight, 240)}px`;
  }, [value]);

  useRestoredFocus(ref, Boolean(disabled));

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (promptMenu.onKeyDown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (!streaming && sendable) onSend();
    }
  };

  // A pasted screenshot or dropped file becomes an attachment; pasted text stays text.
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    if (!onAddImages) return;
    const files = imagesIn(event.clipboardData.files);
    if (files.length === 0) return;
    event.preventDefault();
    onAddImages(files);
  };
  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    setDragging(false);
    if (!onAddImages) return;
    event.preventDefault();
    const files = imagesIn(event.dataTransfer.files);
    if (files.length > 0) onAddImages(files);
  };

  return (
    <form
      className={`composer${dragging ? ' composer--dragging' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!streaming && sendable) onSend();
      }}
      onDragOver={(e) => {
        if (!onAddImages) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {images.length > 0 && (
        <ul className="composer__images" aria-label="Images to send">
          {images.map((image) => (
            <li key={image.key} className="composer__image">
              <img src={image.url} alt={image.file.name} />
              <button
                type="button"
                className="btn btn--icon btn--ghost"
                aria-label={`Remove ${image.file.name}`}
                onClick={() => onRemoveImage?.(image.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {onAddImages && (
        <>
          <input
            ref={picker}
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            multiple
            hidden
            aria-label="Attach images"
            onChange={(e) => {
              const files = imagesIn(e.target.files ?? []);
              if (files.length > 0) onAddImages(files);
              e.target.value = '';
            }}
          />
          <button
            type="button"
            className="btn btn--ghost"
            aria-label="Attach images"
            title="Attach images (or paste or drop them here)"
            disabled={disabled || streaming}
            onClick={() => picker.current?.click()}
          >
            +
          </button>
        </>
      )}
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder={narrow ? PLACEHOLDER.narrow : PLACEHOLDER.wide}
        aria-describedby="composer-hint"
        {...promptMenu.inputProps}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <PromptMenu menu={promptMenu} />
      <span id="composer-hint" className="visually-hidden">
        Enter sends, Shift+Enter adds a new line, Escape stops a reply, / at the start picks a saved prompt.
      </span>
      {streaming ? (
        <button type="button" className="btn btn--danger" onClick={onStop} aria-keyshortcuts="Escape">
          ■ Stop
        </button>
      ) : (
        <button
          type="submit"
          className="btn btn--primary"
          disabled={disabled || !sendable}
          aria-label="Send message"
        >
          Send
        </button>
      )}
    </form>
  );
}
