/** Where sign-in returns to: the page the user was on (only a path of this app), else a new chat. */
export function returnPath(state: unknown): string {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === 'string' &&
    from.startsWith('/') &&
    !from.startsWith('//') &&
    !from.startsWith('/\\') &&
    from !== '/login'
    ? from
    : '/';
}
