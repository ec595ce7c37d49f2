import { describe, expect, it } from 'vitest';
import { nextStamp } from './revocation.js';

describe('nextStamp', () => {
  it('is the next whole second', () => {
    expect(nextStamp(10_250, null).getTime()).toBe(11_000);
    expect(nextStamp(10_000, null).getTime()).toBe(11_000);
  });

  it('moves a second further for a second stamp within the same second, so it still refuses tokens issued between', () => {
    const first = nextStamp(10_250, null);
    expect(nextStamp(10_900, first).getTime()).toBe(12_000);
    expect(nextStamp(20_000, first).getTime()).toBe(21_000);
  });
});
