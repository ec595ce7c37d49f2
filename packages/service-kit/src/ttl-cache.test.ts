import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('forgets an entry once its lifetime has passed', () => {
    let now = 1000;
    const cache = new TtlCache<string>(10, () => now);
    cache.set('a', 'alpha', 500);
    expect(cache.get('a')).toBe('alpha');
    now = 1500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the entry stored longest ago when full', () => {
    const cache = new TtlCache<number>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i, 60_000);
    cache.set('a', 10, 60_000); // re-storing moves it to the back of the line
    cache.set('d', 3, 60_000);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([10, 2, 3]);
  });

  it('loads a missing entry once per lifetime, and loads again after delete', async () => {
    let now = 0;
    const cache = new TtlCache<number | null>(10, () => now);
    let loads = 0;
    const load = () => Promise.resolve(++loads > 1 ? loads : null);
    expect(await cache.getOrLoad('k', 100, load)).toBeNull();
    expect(await cache.getOrLoad('k', 100, load)).toBeNull();
    expect(loads).toBe(1);
    cache.delete('k');
    expect(await cache.getOrLoad('k', 100, load)).toBe(2);
    now = 100;
    expect(await cache.getOrLoad('k', 100, load)).toBe(3);
  });

  it('keeps nothing when the lifetime is 0', async () => {
    const cache = new TtlCache<string>(10);
    let loads = 0;
    const load = () => Promise.resolve(`v${++loads}`);
    expect(await cache.getOrLoad('k', 0, load)).toBe('v1');
    expect(await cache.getOrLoad('k', 0, load)).toBe('v2');
    expect(cache.size).toBe(0);
  });
});
