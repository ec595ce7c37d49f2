import { type RefObject, useEffect } from 'react';

/**
 * Whether the user was typing in the composer when it last lost focus to nothing: disabled while
 * a new conversation loads (the first send), or replaced on the conversation's new address.
 * Module state, so it outlives the composer that was typed in.
 */
let wasTyping = false;

/**
 * Gives the composer its focus back when it comes back (enabled again, or mounted anew) after
 * taking it away, and only if nothing else has the focus by then: a user who clicked or tabbed
 * elsewhere keeps their place.
 */
export function useRestoredFocus(ref: RefObject<HTMLTextAreaElement | null>, disabled: boolean): void {
  useEffect(() => {
    const node = ref.current;
    if (!node) return undefined;
    const onFocus = () => {
      wasTyping = true;
    };
    const onBlur = (event: FocusEvent) => {
      const to = event.relatedTarget;
      // Focus moved on purpose, and not to the composer's own buttons (Send, which then goes away).
      if (to instanceof Node && !node.form?.contains(to)) wasTyping = false;
    };
    node.addEventListener('focus', onFocus);
    node.addEventListener('blur', onBlur);
    return () => {
      node.removeEventListener('focus', onFocus);
      node.removeEventListener('blur', onBlur);
    };
  }, [ref]);

  useEffect(() => {
    const node = ref.current;
    if (!node || disabled || !wasTyping) return;
    const active = document.activeElement;
    if (active === null || active === document.body) node.focus();
  }, [ref, disabled]);
}
