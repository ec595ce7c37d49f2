import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { BackendPool } from './pool.js';
import { type Lease, Router, type RouterOptions } from './router.js';

const MODEL = 'llama3.2:latest';
const OTHER = 'qwen2.5:latest';

/** A cache-aware router over healthy backends holding two models, on a clock the test moves. */
function setup(count: number, options: Partial<RouterOptions> = {}) {
  const clock = { now: 1_000_000 };
  const pool = new BackendPool(30_000);
  const events = { cold: [] as string[], affinity: [] as boolean[], preloads: [] as string[] };
  const router = new Router(
    pool,
    {
      strategy: 'cache-aware',
      maxParallel: 2,
      queueMax: 100,
      queueTimeoutMs: 60_000,
      coldWaitMs: 5_000,
      affinityLoadFactor: 1.25,
      ...options,
    },
    {
      onColdLoad: (model, backend) => events.cold.push(`${model}@${backend.id}`),
      onAffinity: (hit) => events.affinity.push(hit),
      // Background loads never finish here: the test moves the clock, not the load.
      preload: (model, backend) => {
        events.preloads.push(`${model}@${backend.id}`);
        return new Promise<void>(() => undefined);
      },
    },
    () => clock.now,
  );
  const backends: Backend[] = [];
  for (let i = 0; i < count; i++) {
    const backend = pool.upsert({ id: `b${i}`, url: `http://b${i}` });
    backend.state = 'healthy';
    backend.models = new Map([
      [MODEL, { name: MODEL }],
      [OTHER, { name: OTHER }],
    ]);
    backends.push(backend);
  }
  const load = (backend: Backend, model = MODEL) => backend.loaded.set(model, clock.now + 300_000);
  return { clock, pool, router, backends, events, load };
}

/** Settles pending promise callbacks (grants happen synchronously on release; this lets them land). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('cache-aware router', () => {
  it('prefers a backend where the model is loaded, the least loaded among them', async () => {
    const { router, backends, load, events } = setup(3);
    load(backends[1] as Backend);
    load(backends[2] as Backend);
    const a = await router.acquire(MODEL);
    const b = await router.acquire(MODEL);
    expect(new Set([a.backend.id, b.backend.id])).toEqual(new Set(['b1', 'b2']));
    expect(events.cold).toEqual([]);
  });

  it('waits for a loaded backend’s slot rather than loading the model elsewhere, up to the bound', async () => {
    const { router, backends, load, clock, events } = setup(2, { coldWaitMs: 5_000 });
    load(backends[0] as Backend);
    const held = [await router.acquire(MODEL), await router.acquire(MODEL)];
    let third: Lease | undefined;
    void router.acquire(MODEL).then((lease) => {
      third = lease;
    });
    await flush();
    expect(third).toBeUndefined();
    (held[0] as Lease).release();
    await flush();
    expect(third?.backend.id).toBe('b0');
    expect(events.cold).toEqual([]);

    // Full again: once the bounded wait is over, the model is loaded on the other backend.
    let fourth: Lease | undefined;
    void router.acquire(MODEL).then((lease) => {
      fourth = lease;
    });
    await flush();
    expect(fourth).toBeUndefined();
    clock.now += 5_000;
    router['pump']();
    await flush();
    expect(fourth?.backend.id).toBe('b1');
    expect(events.cold).toEqual([`${MODEL}@b1`]);
  });

  it('loads a model nobody has loaded once: concurrent requests wait for that load', async () => {
    const { router, backends, events, clock } = setup(4);
    const first = await Promise.all([router.acquire(MODEL), router.acquire(MODEL)]);
    const waiting: Lease[] = [];
    for (let i = 0; i < 3; i++) void router.acquire(MODEL).then((lease) => waiting.push(lease));
    await flush();
    expect(new Set(first.map((l) => l.backend.id)).size).toBe(1);
    expect(events.cold).toHaveLength(1);
    expect(waiting).toHaveLength(0);

    const loadedOn = first[0]?.backend as Backend;
    expect(loadedOn.loading.get(MODEL)).toBe(1);
    // The load finishes with the first request: the model counts as loaded there, the others follow.
    for (const lease of first) lease.release();
    await flush();
    expect(waiting.map((l) => l.backend.id)).toEqual([loadedOn.id, loadedOn.id]);
    expect(loadedOn.warm(MODEL, clock.now)).toBe(true);
    expect(events.cold).toHaveLength(1);
    expect(backends.filter((b) => b.loading.size > 0)).toHaveLength(0);
  });

  it('loads the model on another backend at once when more wait for it than its loaded backends have slots', async () => {
    const { router, backends, load, events } = setup(2, { maxParallel: 1, coldWaitMs: 60_000 });
    load(backends[0] as Backend);
    await router.acquire(MODEL);
    const waiting: Lease[] = [];
    for (let i = 0; i < 2; i++) void router.acquire(MODEL).then((lease) => waiting.push(lease));
    await flush();
    expect(waiting).toHaveLength(0);
    expect(events.cold).toEqual([]);
    // A third waiter: two are already queued for one slot, so the wait is long; b1 loads the model.
    const third = await router.acquire(MODEL);
    expect(third.backend.id).toBe('b1');
    expect(events.cold).toEqual([`${MODEL}@b1`]);
  });

  it('loads the model on another backend at once when the uncached prompts queued where it loads would wait longer than a load', async () => {
    const { router, clock, events } = setup(3, {
      maxParallel: 4,
      promptTokensPerSecond: 2_000,
      loadEstimateMs: 3_000,
    });
    const preloads = events.preloads;
    // First turns of new conversations: 10,000 bytes, about 2,500 prompt tokens (1.25 s of prefill) each.
    const big = { promptBytes: 10_000 };
    const first = await router.acquire(MODEL, { affinityKey: 'conv-0', ...big });
    expect(events.cold).toEqual([`${MODEL}@${first.backend.id}`]);
    clock.now += 400;
    // On the loading backend it would start after the rest of the load and the first prompt
    // (2.6 + 1.25 s), on another after a load (3 s): the model is loaded there in the background.
    const second = await router.acquire(MODEL, { affinityKey: 'conv-1', ...big });
    expect(second.backend).not.toBe(first.backend);
    expect(preloads).toEqual([`${MODEL}@${second.backend.id}`]);
    expect(events.cold).toHaveLength(2);
    // A third starts soonest on the third backend: one more background load, never two on one backend.
    clock.now += 400;
    const third = await router.acquire(MODEL, { affinityKey: 'conv-2', ...big });
    expect(new Set([first.backend, second.backend, third.backend]).size).toBe(3);
    expect(preloads).toHaveLength(2);
    expect(events.cold).toHaveLength(3);
  });

  it("takes a prompt off its backend's estimated backlog once the backend answers it", async () => {
    const { router, clock, backends, load } = setup(2, { maxParallel: 1000, promptTokensPerSecond: 2_000 });
    for (const backend of backends) load(backend);
    // A stream of new conversations the server answers far faster than 2,000 prompt tokens/s: each
    // answered prompt leaves the estimate, so nothing piles up (on the old code 400 jobs of 250
    // tokens stayed, 50 s of estimated work whose cost every later pick recomputed).
    const leases: Lease[] = [];
    for (let i = 0; i < 400; i++) {
      const lease = await router.acquire(MODEL, { affinityKey: `new-${i}`, promptBytes: 1_000 });
      lease.answered?.();
      leases.push(lease);
      clock.now += 2;
    }
    expect(backends.map((b) => b.prefill.tokens)).toEqual([0, 0]);
    // Both backends still look idle: new conversations spread over them by their keys.
    const spread = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const lease = await router.acquire(MODEL, { affinityKey: `more-${i}`, promptBytes: 1_000 });
      spread.add(lease.backend.id);
      lease.release();
    }
    expect(spread).toEqual(new Set(['b0', 'b1']));
    // A prompt not answered yet stays until its request ends.
    const pending = await router.acquire(MODEL, { affinityKey: 'pending', promptBytes: 1_000 });
    expect(pending.backend.prefill.tokens).toBe(250);
    pending.release();
    expect(pending.backend.prefill.tokens).toBe(0);
    for (const lease of leases) lease.release();
  });

  it("holds a long new prompt back until a backend's prompt work is done rather than share a busy server", async () => {
    const { router, backends, load, events } = setup(2, { maxParallel: 4, promptTokensPerSecond: 2_000 });
    for (const backend of backends) load(backend);
    // First turns of new conversations, about 2,500 prompt tokens (1.25 s of prefill) each: one per server.
    const big = { promptBytes: 10_000 };
    const first = await router.acquire(MODEL, { affinityKey: 'conv-0', ...big });
    const second = await router.acquire(MODEL, { affinityKey: 'conv-1', ...big });
    expect(second.backend).not.toBe(first.backend);
    // A third shares a server with one of them: both would finish after 2.5 s (3.75 s added in all);
    // held until one is done, it finishes as late and the other one 1.25 s sooner.
    let third: Lease | undefined;
    void router.acquire(MODEL, { affinityKey: 'conv-2', ...big }).then((lease) => {
      third = lease;
    });
    await flush();
    expect(third).toBeUndefined();
    // A short prompt (a returning turn, a small request) is not held: it adds little to either.
    const small = await router.acquire(MODEL, { affinityKey: 'conv-3', promptBytes: 400 });
    expect(backends).toContain(small.backend);
    // The second server answers its prompt: the held one goes there at once.
    second.answered?.();
    await flush();
    expect(third?.backend).toBe(second.backend);
    expect(events.preloads).toEqual([]);
  });

  it('counts the prompts held back in the gateway: a burst of long prompts still loads the model elsewhere', async () => {
    const { router, backends, load, events } = setup(2, {
      maxParallel: 8,
      promptTokensPerSecond: 2_000,
      loadEstimateMs: 3_000,
    });
    const [b0, b1] = backends as [Backend, Backend];
    load(b0);
    // Long prompts without a conversation (2,500 tokens, 1.25 s each) for a model only b0 has loaded.
    const granted: Lease[] = [];
    for (let i = 0; i < 4; i++)
      void router.acquire(MODEL, { promptBytes: 10_000 }).then((l) => granted.push(l));
    await flush();
    // The first goes to b0, the second is held back for it; the rest would wait behind those two
    // (more than a load), so b1 loads the model in the background instead of all queueing on b0.
    expect(granted[0]?.backend).toBe(b0);
    expect(events.preloads).toEqual([`${MODEL}@b1`]);
    expect(granted.some((l) => l.backend === b1)).toBe(true);
    expect(router.queueDepth).toBeLessThan(3);
  });

  it('keeps small concurrent requests for a cold model on its one load (their prompts cost less than a load)', async () => {
    const { router, events } = setup(3, {
      maxParallel: 4,
      promptTokensPerSecond: 2_000,
      loadEstimateMs: 3_000,
    });
    const preloads = events.preloads;
    const leases = await Promise.all(
      Array.from({ length: 4 }, (_, i) => router.acquire(MODEL, { affinityKey: `c${i}`, promptBytes: 200 })),
    );
    expect(new Set(leases.map((l) => l.backend.id)).size).toBe(1);
    expect(preloads).toEqual([]);
    expect(events.cold).toHaveLength(1);
  });

  it('starts no second load while the first is running, however long it takes', async () => {
    const { router, clock, events } = setup(2, { coldWaitMs: 1_000 });
    const loading = [await router.acquire(MODEL), await router.acquire(MODEL)];
    let third: Lease | undefined;
    void router.acquire(MODEL).then((lease) => {
      third = lease;
    });
    clock.now += 60_000;
    router['pump']();
    await flush();
    expect(third).toBeUndefined();
    expect(events.cold).toHaveLength(1);
    (loading[0] as Lease).release();
    await flush();
    expect(third?.backend).toBe(loading[0]?.backend);
    expect(events.cold).toHaveLength(1);
  });

  it('counts slots per model: a backend full for one model still serves another loaded one', async () => {
    const { router, backends, load } = setup(1);
    load(backends[0] as Backend);
    load(backends[0] as Backend, OTHER);
    await router.acquire(MODEL);
    await router.acquire(MODEL);
    const other = await router.acquire(OTHER);
    expect(other.backend.id).toBe('b0');
    expect(backends[0]?.inFlightFor(MODEL)).toBe(2);
    expect(backends[0]?.inFlightFor(OTHER)).toBe(1);
  });

  it('keeps a conversation on its backend while that has a free slot, however busy it is', async () => {
    const { router, backends, load, events } = setup(3, { maxParallel: 8 });
    for (const backend of backends) load(backend);
    const turn1 = await router.acquire(MODEL, { affinityKey: 'conv' });
    turn1.release();
    const home = turn1.backend;
    // The home backend runs 7 of its 8 slots, the others none: the turn still goes where its cache is.
    home.modelInFlight.set(MODEL, 7);
    const turn2 = await router.acquire(MODEL, { affinityKey: 'conv' });
    expect(turn2.backend).toBe(home);
    expect(events.affinity).toEqual([true]);
    expect(router.affinityHitRate).toBe(1);
  });

  it('homes no more live conversations on a backend than it has slots while another has room', async () => {
    const { router, backends, load, clock } = setup(3, { maxParallel: 2, affinityIdleMs: 60_000 });
    for (const backend of backends) load(backend);
    const homes = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const lease = await router.acquire(MODEL, { affinityKey: `conv-${i}` });
      homes.set(lease.backend.id, (homes.get(lease.backend.id) ?? 0) + 1);
      lease.release();
    }
    // Six conversations, three backends of two slots: two each, whatever their hashes say.
    expect([...homes.values()]).toEqual([2, 2, 2]);
    // Conversations idle past AFFINITY_IDLE_MS no longer count: a returning one is live again.
    clock.now += 61_000;
    const memory = router['cacheAware']['affinity'];
    const back = await router.acquire(MODEL, { affinityKey: 'conv-0' });
    const counts = backends.map((b) => memory.liveOn(b.id, MODEL, clock.now));
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(1);
    expect(memory.liveOn(back.backend.id, MODEL, clock.now)).toBe(1);
  });

  it('homes a new long conversation on a backend with a slot cache to spare even when a full one is idle', async () => {
    const { router, backends, load, clock } = setup(2, { maxParallel: 2, promptTokensPerSecond: 2_000 });
    for (const backend of backends) load(backend);
    const [b0, b1] = backends as [Backend, Backend];
    // b0 is idle but the home of two live conversations (both its slots' caches); b1 has room but
    // 5,000 prompt tokens (2.5 s) to process.
    const memory = router['cacheAware']['affinity'];
    memory.set('conv-a', 'b0', MODEL, clock.now);
    memory.set('conv-b', 'b0', MODEL, clock.now);
    b1.prefill.add(MODEL, 5_000, clock.now);
    // A new conversation's first turn (2,500 tokens) would start at once on b0, but there it would take
    // conv-a's or conv-b's cache, and one of them would process its whole prompt again next turn.
    const lease = await router.acquire(MODEL, { affinityKey: 'conv-new', promptBytes: 10_000 });
    expect(lease.backend).toBe(b1);
    expect(memory.liveOn(b0.id, MODEL, clock.now)).toBe(2);
  });

  it('a returning conversation waits a little for its full backend, then goes elsewhere', async () => {
    const { router, backends, load, clock, events } = setup(2, { maxParallel: 1, affinityWaitMs: 1_000 });
    for (const backend of backends) load(backend);
    const turn1 = await router.acquire(MODEL, { affinityKey: 'conv' });
    const home = turn1.backend;
    turn1.release();
    const blocker = await router.acquire(MODEL, { affinityKey: 'someone-else' });
    if (blocker.backend !== home) {
      blocker.release();
      home.modelInFlight.set(MODEL, 1);
    }
    let turn2: Lease | undefined;
    void router.acquire(MODEL, { affinityKey: 'conv' }).then((lease) => {
      turn2 = lease;
    });
    await flush();
    // The other backend is free, but the conversation waits for the one holding its cache.
    expect(turn2).toBeUndefined();
    clock.now += 1_000;
    router['pump']();
    await flush();
    expect(turn2?.backend).not.toBe(home);
    expect(events.affinity.at(-1)).toBe(false);
  });

  it('does not route to a model whose /api/ps expiry has passed as if loaded', async () => {
    const { router, backends, clock, events } = setup(2);
    (backends[0] as Backend).loaded.set(MODEL, clock.now - 1);
    (backends[1] as Backend).loaded.set(MODEL, clock.now + 60_000);
    const lease = await router.acquire(MODEL);
    expect(lease.backend.id).toBe('b1');
    expect(events.cold).toEqual([]);
  });
});
