import { AppError } from '@corral/service-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCursor, encodeCursor, keysetPage } from './cursor.js';

const shape = z.object({ d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), u: z.string() });

describe('keyset cursor codec', () => {
  it('round-trips the sort keys it was given', () => {
    const keys = { d: '2026-01-31', u: 'user-1' };
    expect(decodeCursor(encodeCursor(keys), shape)).toEqual(keys);
  });

  it('refuses a cursor that is not base64url JSON, or JSON of another shape, as a 400 on query.cursor', () => {
    for (const bad of [
      '%%%',
      Buffer.from('not json').toString('base64url'),
      encodeCursor({ d: 'x', u: 'y' }),
    ]) {
      let thrown: unknown;
      try {
        decodeCursor(bad, shape);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe('validation_failed');
      expect((thrown as AppError).message).toContain('query.cursor');
    }
  });

  it('gives a next cursor only when more rows were read than the page holds', () => {
    const keys = (n: number) => ({ d: '2026-01-01', u: String(n) });
    const full = keysetPage([1, 2, 3], 2, keys);
    expect(full.items).toEqual([1, 2]);
    expect(decodeCursor(full.nextCursor!, shape)).toEqual({ d: '2026-01-01', u: '2' });
    expect(keysetPage([1, 2], 2, keys)).toEqual({ items: [1, 2], nextCursor: null });
  });
});
