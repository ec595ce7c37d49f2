import { AppError } from '@corral/service-kit';
import type { z } from 'zod';

/**
 * The one keyset-cursor codec: a page's last row's sort keys as base64url JSON. Opaque to clients;
 * a cursor that does not decode to `shape` is a 400 on `query.cursor`, never a 500.
 */
export function encodeCursor(keys: Record<string, string>): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, shape: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = shape.safeParse(parsed);
  if (result.success) return result.data;
  throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', {
    extensions: { errors: [{ path: 'query.cursor', message: 'invalid cursor' }] },
  });
}

/** A page of `limit` rows out of `limit + 1` read, with the cursor after its last row when more follow. */
export function keysetPage<Row>(
  rows: Row[],
  limit: number,
  keysOf: (row: Row) => Record<string, string>,
): { items: Row[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keysOf(last)) : null };
}
