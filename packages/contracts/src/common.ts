import { z } from 'zod';

/** An instant as the services write it: `Date.toISOString()`. */
export const timestamp = z.iso.datetime({ offset: true });

/**
 * A record's id as the services send it (UUIDs today): opaque to its readers, who only echo it
 * back, so the contract does not pin its form (import files, which create records, do).
 */
export const recordId = z.string().min(1).max(200);

/** One page of a keyset-paged list; `nextCursor` is null on the last page. */
export const page = <Item extends z.ZodType>(item: Item) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export type Page<Item> = { items: Item[]; nextCursor: string | null };
