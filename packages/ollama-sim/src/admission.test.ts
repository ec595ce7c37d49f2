import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';

describe('Admission', () => {
  it('runs up to maxParallel, queues up to maxQueue, then refuses', () => {
    const admission = new Admission(2, 1);
    const a = admission.tryEnter();
    const b = admission.tryEnter();
    const c = admission.tryEnter();
    expect([a?.state, b?.state, c?.state]).toEqual(['running', 'running', 'queued']);
    expect(admission.tryEnter()).toBeNull();
  });

  it('grants queued tickets in order as slots free, and skips cancelled ones', () => {
    const admission = new Admission(1, 3);
    const running = admission.tryEnter();
    const granted: string[] = [];
    const first = admission.tryEnter();
    const second = admission.tryEnter();
    if (!running || !first || !second) throw new Error('expected tickets');
    first.onGrant = () => granted.push('first');
    second.onGrant = () => granted.push('second');

    admission.release(first); // its client went away while waiting
    admission.release(running);
    expect(granted).toEqual(['second']);
    expect(admission.running).toBe(1);
    expect(admission.queued).toBe(0);
  });

  it('0 means unlimited parallelism, and raising the limit drains the queue', () => {
    expect(new Admission(0, 0).tryEnter()?.state).toBe('running');
    const admission = new Admission(1, 5);
    admission.tryEnter();
    const waiting = admission.tryEnter();
    let grantedLater = false;
    if (waiting) waiting.onGrant = () => (grantedLater = true);
    admission.setLimits(2, 5);
    expect(grantedLater).toBe(true);
  });
});
