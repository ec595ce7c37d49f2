import { describe, expect, it } from 'vitest';
import { waitFor } from './wait.js';

describe('waitFor', () => {
  it('returns the first value that is not undefined or false, retrying past throws', async () => {
    let calls = 0;
    const value = await waitFor(
      'the third call',
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        if (calls === 2) return false;
        return calls === 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('returns 0 and empty strings: only undefined and false mean not yet', async () => {
    expect(await waitFor('zero', () => 0)).toBe(0);
    expect(await waitFor('empty', async () => '')).toBe('');
  });

  it('fails at the deadline, naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        'the moon',
        () => {
          throw new Error('still dark');
        },
        { timeoutMs: 200, intervalMs: 20 },
      ),
    ).rejects.toThrow('timed out after 200 ms waiting for the moon (last error: still dark)');
  });
});
