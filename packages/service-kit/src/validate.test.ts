import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './errors.js';
import { parseInput } from './validate.js';

const schema = z.object({
  title: z.string(),
  tags: z.array(z.string()).default([]),
  meta: z.record(z.string(), z.string()).optional(),
});

function failure(value: unknown): AppError {
  try {
    parseInput(schema, value);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('parseInput', () => {
  it('returns the parsed value, unknown keys stripped, valid Unicode (emoji, CJK) kept', () => {
    expect(parseInput(schema, { title: 'héllo 😀 漢字', extra: 1 })).toEqual({
      title: 'héllo 😀 漢字',
      tags: [],
    });
  });

  it('names each invalid field', () => {
    const error = failure({ title: 5, tags: 'x' });
    expect(error.code).toBe('validation_failed');
    expect((error.extensions.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([
      'body.tags',
      'body.title',
    ]);
  });

  it('refuses NUL characters PostgreSQL cannot store, naming the field', () => {
    const error = failure({ title: 'a\u0000b' });
    expect(error.status).toBe(400);
    expect(error.message).toBe('body.title: must not contain NUL characters');
    expect(failure({ title: 'ok', tags: ['fine', 'bad\u0000'] }).message).toBe(
      'body.tags.1: must not contain NUL characters',
    );
  });

  it('refuses unpaired surrogates in values and keys', () => {
    expect(failure({ title: 'x\ud800' }).message).toBe(
      'body.title: is not valid Unicode (unpaired surrogate)',
    );
    expect(failure({ title: '\udc00x' }).message).toBe(
      'body.title: is not valid Unicode (unpaired surrogate)',
    );
    expect(failure({ title: 'ok', meta: { ['k\ud800']: 'v' } }).message).toBe(
      'body.meta: has a key that is not valid Unicode (unpaired surrogate)',
    );
  });

  it('ignores text that validation stripped', () => {
    expect(parseInput(schema, { title: 'ok', dropped: 'a\u0000' })).toEqual({ title: 'ok', tags: [] });
  });
});
