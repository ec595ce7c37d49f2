import { describe, expect, it } from 'vitest';
import { PrefillBacklog } from './prefill-backlog.js';

const NOW = 1_765_000_000_000; // a Date.now()-sized clock, where a millisecond's fractions round
const RATE = 2_000;

describe('PrefillBacklog', () => {
  it('shares the prompt rate: a second prompt sent at once delays the first', () => {
    const backlog = new PrefillBacklog();
    backlog.advance(NOW, RATE);
    // Alone, 2,000 tokens take 1 s; with another of 2,000 both finish after 2 s.
    expect(backlog.addedBy(2_000, NOW, NOW, RATE)).toBeCloseTo(1_000);
    backlog.add('m', 2_000, NOW);
    // Its own 2 s, and the first one's first token 1 s later than alone.
    expect(backlog.addedBy(2_000, NOW, NOW, RATE)).toBeCloseTo(3_000);
    backlog.advance(NOW + 500, RATE);
    expect(backlog.tokens).toBeCloseTo(1_000);
  });

  it('counts the wait for a load', () => {
    const backlog = new PrefillBacklog();
    backlog.add('m', 1_000, NOW + 3_000);
    backlog.advance(NOW + 1_000, RATE);
    expect(backlog.tokens).toBeCloseTo(1_000);
    // A new one waits 2 s for the load, then both share the server: 3 s of its own, the first 0.5 s later.
    expect(backlog.addedBy(1_000, NOW + 3_000, NOW + 1_000, RATE)).toBeCloseTo(3_500);
  });

  it('lets prompts waiting for a load start once the load is seen (or timed) done', () => {
    const backlog = new PrefillBacklog();
    backlog.add('m', 2_000, NOW + 5_000);
    // The load turned out to be in at NOW + 1 s: by NOW + 1.5 s half a second of work is done.
    backlog.advance(NOW + 1_000, RATE, () => NOW + 1_000);
    backlog.advance(NOW + 1_500, RATE);
    expect(backlog.tokens).toBeCloseTo(1_000);
  });

  it('finishes however small the work left (no step lost to rounding)', () => {
    const backlog = new PrefillBacklog();
    backlog.add('m', 1e-9, NOW);
    backlog.add('m', 5, NOW);
    expect(backlog.addedBy(1, NOW, NOW, RATE)).toBeLessThan(10);
    backlog.advance(NOW + 100, RATE);
    expect(backlog.tokens).toBe(0);
  });
});
