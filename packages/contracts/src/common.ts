import { z } from 'zod';

/** An instant as the services write it: `Date.toISOString()`. */
export const timestamp = z.iso.datetime({ offset: true });

/** One page of a keyset-paged list; `nextCursor` is null on the last page. */
export const page = <Item extends z.ZodType>(item: Item) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export type Page<Item> = { items: Item[]; nextCursor: string | null };
