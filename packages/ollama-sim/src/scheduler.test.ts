import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeModel } from './models.js';
import { DEFAULT_TUNABLES, type SimTunables } from './options.js';
import { GpuScheduler, type GpuTicket, type Grant } from './scheduler.js';

const llama = describeModel({ name: 'llama3.2' }, '');
const qwen = describeModel({ name: 'qwen3' }, '');

function scheduler(overrides: Partial<SimTunables>): GpuScheduler {
  return new GpuScheduler({ ...DEFAULT_TUNABLES, ...overrides });
}

/** Enters a request and records its grant. */
function enter(gpu: GpuScheduler, model = llama, prompt = '', keepAliveMs = 60_000) {
  const grants: Grant[] = [];
  const ticket = gpu.enter(model, keepAliveMs, prompt, (grant) => grants.push(grant));
  return { ticket: ticket as GpuTicket, grants, refused: ticket === null };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('GpuScheduler: loading', () => {
  it('requests for a cold model wait for one load, then take the slots; the rest queue', () => {
    const gpu = scheduler({ loadMs: 3000, maxParallel: 2 });
    const requests = [1, 2, 3].map(() => enter(gpu));
    expect(requests.map((r) => r.ticket.state)).toEqual(['loading', 'loading', 'loading']);
    expect(gpu.loaded()).toEqual([]);
    // Two of them will get a slot as soon as the model is in; only the third is queued.
    expect(gpu.queued).toBe(1);

    vi.advanceTimersByTime(3000);
    expect(requests.map((r) => r.ticket.state)).toEqual(['running', 'running', 'queued']);
    expect(gpu.modelStats()['llama3.2:latest']).toMatchObject({ coldLoads: 1, running: 2, peakRunning: 2 });
    expect(gpu.loaded().map((l) => l.model.name)).toEqual(['llama3.2:latest']);

    gpu.release(requests[0]!.ticket);
    expect(requests[2]!.ticket.state).toBe('running');
    expect(gpu.queued).toBe(0);
  });

  it('evicts the idle model used least recently when OLLAMA_MAX_LOADED_MODELS are in', () => {
    const gpu = scheduler({ maxLoadedModels: 1 });
    const first = enter(gpu, llama);
    gpu.release(first.ticket);
    const second = enter(gpu, qwen);
    expect(second.ticket.state).toBe('running');
    expect(gpu.loaded().map((l) => l.model.name)).toEqual(['qwen3:latest']);
    expect(gpu.modelStats()['llama3.2:latest']?.evictions).toBe(1);
  });

  it('a model that needs memory held by a busy one waits until that one is idle', () => {
    const gpu = scheduler({ maxLoadedModels: 1 });
    const busy = enter(gpu, llama);
    const waiting = enter(gpu, qwen);
    expect(waiting.ticket.state).toBe('loading');
    expect(gpu.queued).toBe(1);
    gpu.release(busy.ticket);
    expect(waiting.ticket.state).toBe('running');
    expect(gpu.loaded().map((l) => l.model.name)).toEqual(['qwen3:latest']);
  });
});

describe('GpuScheduler: keep_alive', () => {
  it('an idle model unloads when its keep_alive runs out; 0 unloads it right after the request', () => {
    const gpu = scheduler({});
    const kept = enter(gpu, llama, '', 1000);
    gpu.release(kept.ticket);
    expect(gpu.loaded()[0]?.expiresAt).toBe(Date.now() + 1000);
    vi.advanceTimersByTime(999);
    expect(gpu.loaded()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(gpu.loaded()).toHaveLength(0);

    const once = enter(gpu, qwen, '', 0);
    expect(gpu.loaded()).toHaveLength(1);
    gpu.release(once.ticket);
    expect(gpu.loaded()).toHaveLength(0);
    expect(gpu.modelStats()['qwen3:latest']?.expirations).toBe(1);
  });

  it('negative keep_alive keeps it for ever', () => {
    const gpu = scheduler({});
    gpu.release(enter(gpu, llama, '', -1).ticket);
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(gpu.loaded()[0]?.expiresAt).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('GpuScheduler: slots and queue', () => {
  it('with no queue at all, a request that will get a slot (also after a load) still runs', () => {
    const gpu = scheduler({ maxParallel: 1, maxQueue: 0, loadMs: 100 });
    const first = enter(gpu);
    expect(first.ticket.state).toBe('loading');
    expect(enter(gpu).refused).toBe(true);
    vi.advanceTimersByTime(100);
    expect(first.ticket.state).toBe('running');
    expect(enter(gpu, qwen).ticket.state).toBe('loading');
  });

  it('queues up to OLLAMA_MAX_QUEUE, then refuses', () => {
    const gpu = scheduler({ maxParallel: 1, maxQueue: 1 });
    expect(enter(gpu).ticket.state).toBe('running');
    expect(enter(gpu).ticket.state).toBe('queued');
    expect(enter(gpu).refused).toBe(true);
  });

  it('gives a request the free slot whose cache shares the longest prefix with its prompt', () => {
    const gpu = scheduler({ maxParallel: 2, promptCache: true });
    const a = enter(gpu, llama, '<user>hello<end>');
    const b = enter(gpu, llama, '<user>other<end>');
    gpu.release(a.ticket, '<user>hello<end><assistant>hi<end>');
    gpu.release(b.ticket, '<user>other<end><assistant>yo<end>');

    const next = enter(gpu, llama, '<user>hello<end><assistant>hi<end><user>more<end>');
    expect(next.grants[0]?.cachedChars).toBe('<user>hello<end><assistant>hi<end>'.length);
    expect(next.ticket.slot).toBe(a.ticket.slot);
    const fresh = enter(gpu, llama, 'unrelated');
    expect(fresh.grants[0]?.cachedChars).toBe(0);
    expect(fresh.ticket.slot).toBe(b.ticket.slot);
    expect(fresh.grants[0]?.busySlots()).toBe(2);
  });

  it('a new conversation sharing only a short opening with a live slot takes the empty slot', () => {
    const gpu = scheduler({ maxParallel: 2, promptCache: true });
    const system = (n: number) => `You are assistant ${n}. ${'Be brief and precise. '.repeat(10)}`;
    const firstTurn = `${system(1)}<user>hello<end>`;
    const live = enter(gpu, llama, firstTurn);
    const liveCache = `${firstTurn}<assistant>hi<end>`;
    gpu.release(live.ticket, liveCache);

    // "You are assistant " is well under a tenth of the new prompt: llama-server's LRU choice.
    const other = enter(gpu, llama, `${system(2)}<user>hello<end>`);
    expect(other.ticket.slot).not.toBe(live.ticket.slot);
    expect(other.grants[0]?.cachedChars).toBe(0);

    const nextTurn = enter(gpu, llama, `${liveCache}<user>more<end>`);
    expect(nextTurn.ticket.slot).toBe(live.ticket.slot);
    expect(nextTurn.grants[0]?.cachedChars).toBe(liveCache.length);
  });

  it('takes a slot whose prefix is over a tenth of the prompt, else the one used least recently', () => {
    const gpu = scheduler({ maxParallel: 2, promptCache: true });
    const older = enter(gpu, llama, 'aaaa');
    const newer = enter(gpu, llama, 'bbbb');
    gpu.release(older.ticket, 'aaaa-reply');
    vi.advanceTimersByTime(1000);
    gpu.release(newer.ticket, 'bbbb-reply');

    // 4 of 20 characters in common (0.2 > 0.1): the newer slot, although the older one is free.
    const similar = enter(gpu, llama, 'bbbbxxxxxxxxxxxxxxxx');
    expect(similar.ticket.slot).toBe(newer.ticket.slot);
    expect(similar.grants[0]?.cachedChars).toBe(4);
    gpu.release(similar.ticket, 'bbbbxxxxxxxxxxxxxxxx');

    // 1 of 20 (0.05): no slot is similar enough, so the least recently used one.
    const dissimilar = enter(gpu, llama, 'byyyyyyyyyyyyyyyyyyy');
    expect(dissimilar.ticket.slot).toBe(older.ticket.slot);
    expect(dissimilar.grants[0]?.cachedChars).toBe(0);
  });

  it('without promptCache nothing counts as cached', () => {
    const gpu = scheduler({ maxParallel: 1 });
    gpu.release(enter(gpu, llama, 'same').ticket, 'same');
    expect(enter(gpu, llama, 'same').grants[0]?.cachedChars).toBe(0);
  });

  it('a cancelled waiter leaves the queue and is never granted', () => {
    const gpu = scheduler({ maxParallel: 1 });
    const running = enter(gpu);
    const waiting = enter(gpu);
    gpu.release(waiting.ticket);
    gpu.release(running.ticket);
    expect(waiting.grants).toEqual([]);
    expect(gpu.queued).toBe(0);
    expect(gpu.modelStats()['llama3.2:latest']).toMatchObject({ running: 0, peakRunning: 1 });
  });
});
