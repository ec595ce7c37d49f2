/**
 * The chat page's h1: the conversation's title, for screen readers and the page outline (the
 * sidebar already shows it). Not while the welcome screen, with its own h1, is up.
 */
export function ChatTitle({ title, shown }: { title: string | undefined; shown: boolean }) {
  if (title === undefined || !shown) return null;
  return <h1 className="visually-hidden">{title || 'Untitled'}</h1>;
}
