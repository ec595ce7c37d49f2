import { useEffect, useId, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import './organize.css';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = isMac ? '⌘' : 'Ctrl';

/** The shortcuts, as the `?` dialog lists them. Chosen not to fight the browser (as ChatGPT's). */
export const SHORTCUTS: ReadonlyArray<{ keys: string[]; what: string }> = [
  { keys: [MOD, 'Shift', 'O'], what: 'New chat' },
  { keys: ['Shift', 'Esc'], what: 'Focus the message box' },
  { keys: [MOD, 'K'], what: 'Search conversations' },
  { keys: ['Esc'], what: 'Stop the reply being written' },
  { keys: ['↑'], what: 'Edit your last message (in an empty message box)' },
  { keys: ['Enter'], what: 'Send the message' },
  { keys: ['Shift', 'Enter'], what: 'New line in the message' },
  { keys: ['?'], what: 'Show these shortcuts' },
];

const composer = () => document.getElementById('composer-input') as HTMLTextAreaElement | null;

/** Focuses the message box once it is on the page (after a navigation it may be a frame away). */
function focusComposer(tries = 10): void {
  const box = composer();
  if (box && !box.disabled) {
    box.focus();
    return;
  }
  if (tries > 0) requestAnimationFrame(() => focusComposer(tries - 1));
}

/** Opens the edit form of the last message the user wrote (↑ in an empty message box). */
function editLastMessage(): boolean {
  const mine = document.querySelectorAll<HTMLElement>('article.message--user');
  const last = mine[mine.length - 1];
  const edit = [...(last?.querySelectorAll<HTMLButtonElement>('footer button') ?? [])].find(
    (button) => button.textContent?.trim() === 'Edit' && !button.disabled,
  );
  if (!edit) return false;
  edit.click();
  return true;
}

const typingIn = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));

/**
 * The app's keyboard shortcuts (listened for on the window) and the `?` dialog that lists them.
 * Esc to stop is the reply stream's own (useReplyStream); it is listed here.
 */
export function KeyboardShortcuts({ onShowConversations }: { onShowConversations: () => void }) {
  const navigate = useNavigate();
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const heading = useId();

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (mod && event.shiftKey && !event.altKey && key === 'o') {
        event.preventDefault();
        navigate('/');
        focusComposer();
      } else if (mod && !event.shiftKey && !event.altKey && key === 'k') {
        event.preventDefault();
        onShowConversations();
        const search = document.querySelector<HTMLInputElement>('.sidebar__search');
        search?.focus();
        search?.select();
      } else if (key === 'Escape' && event.shiftKey && !mod) {
        event.preventDefault();
        focusComposer();
      } else if (key === 'ArrowUp' && !mod && !event.shiftKey && !event.altKey) {
        const box = composer();
        if (box && event.target === box && box.value === '' && editLastMessage()) event.preventDefault();
      } else if (key === '?' && !mod && !event.altKey && !typingIn(event.target)) {
        event.preventDefault();
        setOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate, onShowConversations]);

  useEffect(() => {
    const node = dialog.current;
    if (!node) return;
    if (open && !node.open) node.showModal?.();
    if (!open && node.open) node.close();
  }, [open]);

  return (
    <dialog
      ref={dialog}
      className="shortcuts-dialog"
      aria-labelledby={heading}
      onClose={() => setOpen(false)}
      onKeyDown={(event) => {
        // Handled here so the window's Esc (stop a reply) does not also fire.
        if (event.key === 'Escape') {
          event.preventDefault();
          setOpen(false);
        }
      }}
    >
      <h2 id={heading}>Keyboard shortcuts</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(({ keys, what }) => (
            <tr key={what}>
              <td>
                {keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ' + '}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="button" className="btn btn--small" onClick={() => setOpen(false)} autoFocus>
          Close
        </button>
      </p>
    </dialog>
  );
}
