/**
 * What the user was typing, per conversation ('new' for the new-chat screen), kept in this tab's
 * sessionStorage: it survives a reload and an expired session (the sign-in page in between), and is
 * wiped when the user signs out.
 */
const PREFIX = 'corral:draft:';

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export function loadDraft(key: string): string {
  return storage()?.getItem(PREFIX + key) ?? '';
}

export function saveDraft(key: string, text: string): void {
  const store = storage();
  if (!store) return;
  try {
    if (text === '') store.removeItem(PREFIX + key);
    else store.setItem(PREFIX + key, text);
  } catch {
    // Full or disabled storage: the draft is only kept on screen.
  }
}

export function clearDrafts(): void {
  const store = storage();
  if (!store) return;
  for (const key of Object.keys(store)) if (key.startsWith(PREFIX)) store.removeItem(key);
}
