/** How the sidebar groups conversations by their last activity, in the viewer's local time. */
export interface DateGroup<T> {
  label: string;
  items: T[];
}

/**
 * The group a time falls in, as ChatGPT names them: Today, Yesterday, Previous 7 days, Previous
 * 30 days, then the month ("October 2026"). Calendar days in local time, so a chat from 23:50
 * yesterday is "Yesterday" at 00:10 today. A time ahead of `now` (a skewed clock) is Today.
 */
export function dateGroupLabel(at: Date, now: Date, locale?: string): string {
  const daysBack = (n: number) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - n).getTime();
  const t = at.getTime();
  if (t >= daysBack(0)) return 'Today';
  if (t >= daysBack(1)) return 'Yesterday';
  if (t >= daysBack(7)) return 'Previous 7 days';
  if (t >= daysBack(30)) return 'Previous 30 days';
  return at.toLocaleDateString(locale, { month: 'long', year: 'numeric' });
}

/** `items` (newest first) in consecutive groups, order kept. */
export function groupByDate<T extends { updatedAt: string }>(
  items: readonly T[],
  now: Date,
  locale?: string,
): DateGroup<T>[] {
  const groups: DateGroup<T>[] = [];
  for (const item of items) {
    const label = dateGroupLabel(new Date(item.updatedAt), now, locale);
    const last = groups.at(-1);
    if (last?.label === label) last.items.push(item);
    else groups.push({ label, items: [item] });
  }
  return groups;
}
