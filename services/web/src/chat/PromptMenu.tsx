import { type KeyboardEvent, type RefObject, useEffect, useState } from 'react';
import { api, type Prompt } from '../api/index.js';

const MENU_ID = 'prompt-menu';
const optionId = (index: number) => `prompt-option-${index}`;
/** `/` at the very start of the composer, and what follows it on the same line, filters the library. */
const TRIGGER = /^\/([^\n]*)$/;
/** Most prompts the menu lists at once (typing narrows it). */
const MAX_SHOWN = 8;

function matching(prompts: Prompt[], query: string): Prompt[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return prompts
    .filter((p) => words.every((w) => p.title.toLowerCase().includes(w) || p.text.toLowerCase().includes(w)))
    .slice(0, MAX_SHOWN);
}

export interface PromptMenuState {
  open: boolean;
  matches: Prompt[];
  active: number;
  choose: (prompt: Prompt) => void;
  /** Arrow keys move, Enter or Tab inserts, Esc closes; true when the menu took the key. */
  onKeyDown: (event: KeyboardEvent<HTMLTextAreaElement>) => boolean;
  /** The composer's attributes that tie it to the list (a text box with a list popup). */
  inputProps: Record<string, string | undefined>;
}

/**
 * The prompt library in the composer: typing `/` first opens a list of saved prompts (the user's
 * and the shared ones) that narrows as they type; choosing one replaces the `/…` with its text.
 * The list is read each time it opens, so prompts saved in Settings meanwhile are there.
 */
export function usePromptMenu(
  value: string,
  onChange: (value: string) => void,
  input: RefObject<HTMLTextAreaElement | null>,
): PromptMenuState {
  const [prompts, setPrompts] = useState<Prompt[]>([]);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const query = TRIGGER.exec(value)?.[1];
  const triggered = query !== undefined && dismissed !== value;

  useEffect(() => {
    if (!triggered) return;
    let live = true;
    api.library.prompts().then(
      (loaded) => live && setPrompts(loaded),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [triggered]);
  useEffect(() => setActive(0), [query]);

  const matches = triggered ? matching(prompts, query) : [];
  const open = matches.length > 0;
  const choose = (prompt: Prompt) => {
    onChange(prompt.text);
    setDismissed(null);
    input.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (!open || event.nativeEvent.isComposing) return false;
    const move = (step: number) => setActive((index) => (index + step + matches.length) % matches.length);
    if (event.key === 'ArrowDown') move(1);
    else if (event.key === 'ArrowUp') move(-1);
    else if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
      const chosen = matches[Math.min(active, matches.length - 1)];
      if (chosen) choose(chosen);
    } else if (event.key === 'Escape') setDismissed(value);
    else return false;
    event.preventDefault();
    event.stopPropagation();
    return true;
  };

  return {
    open,
    matches,
    active,
    choose,
    onKeyDown,
    inputProps: {
      'aria-autocomplete': 'list',
      'aria-haspopup': 'listbox',
      'aria-controls': open ? MENU_ID : undefined,
      'aria-activedescendant': open ? optionId(active) : undefined,
    },
  };
}

/** The list under the composer while `/` is typed; clicking an entry inserts it too. */
export function PromptMenu({ menu }: { menu: PromptMenuState }) {
  if (!menu.open) return null;
  return (
    <ul id={MENU_ID} role="listbox" aria-label="Saved prompts" className="prompt-menu">
      {menu.matches.map((prompt, index) => (
        <li
          key={prompt.id}
          id={optionId(index)}
          role="option"
          aria-selected={index === menu.active}
          className={`prompt-menu__option${index === menu.active ? ' prompt-menu__option--active' : ''}`}
          // Keeps the focus in the composer (a click would otherwise take it first).
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => menu.choose(prompt)}
        >
          <span className="prompt-menu__title">{prompt.title}</span>
          <span className="prompt-menu__text muted">{prompt.text}</span>
          {prompt.shared && <span className="prompt-menu__tag muted">shared</span>}
        </li>
      ))}
    </ul>
  );
}
