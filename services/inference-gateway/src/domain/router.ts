import type { Backend } from './backend.js';
import { AffinityMemory, chooseForConversation, leastLoaded, maySpill, preloadTargets } from './placement.js';
import { type PlacementContext, PromptCosts } from './prompt-costs.js';
import type { BackendPool } from './pool.js';
import type { PrefillJob } from './prefill-backlog.js';
import {
  type AcquireOptions,
  type Lease,
  RoutingError,
  type RouterEvents,
  type RouterOptions,
  type RoutingStrategy,
} from './routing-types.js';
import type { SharedSlots } from './shared-slots.js';

export * from './routing-types.js';

/** How long a load this gateway saw finish counts as loaded until /api/ps says otherwise. */
const ASSUMED_KEEP_ALIVE_MS = 5 * 60 * 1000;

/** A lease as the router makes it: it can also be given back unused (the shared slot was refused). */
interface LocalLease extends Lease {
  readonly cold: boolean;
  abandon(): void;
}

/** Bytes of a request body per prompt token, to estimate a prompt's size without a tokenizer. */
const BYTES_PER_TOKEN = 4;

/** How long a backend whose shared slots for a model are all taken is passed over before asking again. */
const SHARED_FULL_HOLD_MS = 50;

interface Waiter {
  model: string;
  affinityKey: string | undefined;
  promptTokens: number | undefined;
  /** cache-aware: uncached prompt tokens held back in the gateway (0: waiting for a slot or a load). */
  heldTokens: number;
  exclude: ReadonlySet<Backend> | undefined;
  enqueuedAt: number;
  grant(lease: LocalLease): void;
  fail(error: RoutingError): void;
}

const NO_EXCLUSIONS: ReadonlySet<Backend> = new Set();

/** A backend picked for a request, and (cache-aware) its prompt in that backend's estimated backlog. */
interface Pick {
  backend: Backend;
  job?: PrefillJob;
}

/**
 * Picks a backend for each request: healthy, holding the model, with a free slot, by round-robin
 * (default) or least outstanding requests. When every eligible backend is full, requests wait in
 * one bounded FIFO queue with a timeout; beyond its bound they are shed at once.
 */
export class Router {
  private readonly cursors = new Map<string, number>();
  // A Set keeps insertion order: a FIFO with O(1) removal of a waiter that gave up.
  private readonly queue = new Set<Waiter>();
  private pumping = false;
  /** cache-aware: the prompt tokens the last pick held back in the gateway (0: none). */
  private heldTokens = 0;
  private readonly affinity: AffinityMemory;
  /** cache-aware: what a prompt no cache holds costs on each backend (its wait for a load and prompt work). */
  private readonly costs: PromptCosts;
  private readonly placement: PlacementContext;
  readonly stats = { coldLoads: 0, affinityHits: 0, affinityMisses: 0 };

  constructor(
    private readonly pool: BackendPool,
    private readonly options: RouterOptions,
    private readonly events: RouterEvents = {},
    private readonly now: () => number = Date.now,
    /** Slots counted across gateway replicas (Redis); without it, this replica counts alone. */
    private readonly shared?: SharedSlots,
  ) {
    this.affinity = new AffinityMemory(options.affinityIdleMs ?? 60_000);
    this.costs = new PromptCosts(options.promptTokensPerSecond ?? 2_000, options.loadEstimateMs ?? 5_000);
    this.placement = {
      maxParallel: options.maxParallel,
      affinityLoadFactor: options.affinityLoadFactor ?? 1.25,
      hasSlotFor: (b, model, now) => this.hasSlotFor(b, model, now),
      homedOn: (b, model, now) => this.affinity.liveOn(b.id, model, now),
      preload: events.preload ? (model, target) => this.startPreload(model, target) : undefined,
    };
    pool.onChange(() => this.pump());
  }

  get strategy(): RoutingStrategy {
    return this.options.strategy;
  }

  /** Share of returning conversations that went back to their previous backend (null before any). */
  get affinityHitRate(): number | null {
    const total = this.stats.affinityHits + this.stats.affinityMisses;
    return total === 0 ? null : this.stats.affinityHits / total;
  }

  get queueDepth(): number {
    return this.queue.size;
  }

  /** Requests waiting that this backend could serve. */
  queuedFor(backend: Backend): number {
    let count = 0;
    for (const waiter of this.queue) {
      if (backend.holds(waiter.model) && !waiter.exclude?.has(backend)) count += 1;
    }
    return count;
  }

  /** Holds the backend back from new work after it said it is full (its own queue overflowed). */
  markBusy(backend: Backend): void {
    backend.busyUntil = this.now() + (this.options.busyHoldMs ?? 1000);
    setTimeout(() => this.pump(), (this.options.busyHoldMs ?? 1000) + 1).unref();
  }

  /** Eligible backends for a model, ignoring capacity; throws when there are none at all. */
  candidates(model: string, exclude: ReadonlySet<Backend> = NO_EXCLUSIONS): Backend[] {
    const holding = this.pool.list().filter((b) => b.holds(model));
    if (holding.length === 0) {
      throw new RoutingError('model_not_found', `model "${model}" not found, try pulling it first`);
    }
    const eligible = holding.filter((b) => b.routable && !exclude.has(b));
    if (eligible.length === 0) {
      throw new RoutingError('no_backend', `no healthy backend holds model "${model}"`);
    }
    return eligible;
  }

  acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
    if (!this.shared || options.limited === false) return this.acquireLocal(model, options);
    return this.acquireShared(this.shared, model, options);
  }

  /**
   * A local slot, then the shared one for (backend, model): when other replicas hold all of those,
   * the backend is passed over for a moment and another is tried (or waited for).
   */
  private async acquireShared(shared: SharedSlots, model: string, options: AcquireOptions): Promise<Lease> {
    const deadline = this.now() + this.options.queueTimeoutMs;
    for (;;) {
      const lease = await this.acquireLocal(model, options);
      const { backend } = lease;
      const slot = await shared.acquire(backend.id, model, this.options.maxParallel);
      if (slot !== undefined) {
        if (lease.cold) this.noteCold(model, backend);
        let released = false;
        return {
          backend,
          answered: lease.answered,
          release: () => {
            if (released) return;
            released = true;
            shared.release(backend.id, model, slot);
            lease.release();
          },
        };
      }
      backend.sharedFullUntil.set(model, this.now() + SHARED_FULL_HOLD_MS);
      setTimeout(() => this.pump(), SHARED_FULL_HOLD_MS + 1).unref();
      lease.abandon();
      if (options.signal?.aborted) throw new RoutingError('aborted', 'request aborted');
      if (this.now() >= deadline) {
        throw new RoutingError('queue_timeout', 'timed out waiting for a free backend');
      }
    }
  }

  private acquireLocal(
    model: string,
    { exclude, signal, limited = true, affinityKey, promptBytes }: AcquireOptions = {},
  ): Promise<LocalLease> {
    if (signal?.aborted) return Promise.reject(new RoutingError('aborted', 'request aborted'));
    let eligible: Backend[];
    try {
      eligible = this.candidates(model, exclude);
    } catch (error) {
      return Promise.reject(error);
    }
    const promptTokens = promptBytes === undefined ? undefined : Math.ceil(promptBytes / BYTES_PER_TOKEN);
    let ahead = 0;
    for (const queued of this.queue) ahead += queued.heldTokens;
    const immediate = this.pick(model, eligible, limited, affinityKey, this.now(), promptTokens, ahead);
    const heldTokens = this.heldTokens;
    if (immediate) return Promise.resolve(this.lease(immediate, model, limited));
    if (this.queue.size >= this.options.queueMax) {
      return Promise.reject(new RoutingError('queue_full', 'every backend holding the model is busy'));
    }
    return new Promise<LocalLease>((resolve, reject) => {
      const cleanup = () => {
        this.queue.delete(waiter);
        clearTimeout(timer);
        clearTimeout(coldTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        model,
        affinityKey,
        promptTokens,
        heldTokens,
        exclude,
        enqueuedAt: this.now(),
        grant: (lease) => {
          cleanup();
          this.events.onQueueWait?.((this.now() - waiter.enqueuedAt) / 1000);
          resolve(lease);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(new RoutingError('aborted', 'request aborted'));
      const timer = setTimeout(
        () => waiter.fail(new RoutingError('queue_timeout', 'timed out waiting for a free backend')),
        this.options.queueTimeoutMs,
      );
      // cache-aware: once the bounded wait for a loaded backend is over, a cold backend may take it.
      const coldTimer =
        this.options.strategy === 'cache-aware' && limited
          ? setTimeout(() => this.pump(), this.coldWaitMs + 1)
          : undefined;
      coldTimer?.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.add(waiter);
    });
  }

  /** Seconds a shed client should wait before trying again. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.queueTimeoutMs / 1000));
  }

  private get coldWaitMs(): number {
    return this.options.coldWaitMs ?? 2_000;
  }

  private noteCold(model: string, backend: Backend): void {
    this.stats.coldLoads += 1;
    this.events.onColdLoad?.(model, backend);
  }

  private lease(picked: Pick, model: string, limited: boolean): LocalLease {
    const { backend } = picked;
    let { job } = picked;
    // A request for a model the backend has neither loaded nor is loading starts a load there; while
    // it runs, the backend counts as warm for the model, so other requests wait for it (single flight).
    const cold = limited && !backend.warm(model, this.now());
    if (limited) {
      backend.inFlight += 1;
      backend.modelInFlight.set(model, backend.inFlightFor(model) + 1);
    }
    if (cold) {
      backend.loading.set(model, (backend.loading.get(model) ?? 0) + 1);
      if (!backend.loadStartedAt.has(model)) backend.loadStartedAt.set(model, this.now());
      // With shared slots, the load counts once the shared slot is taken (acquireShared).
      if (!this.shared) this.noteCold(model, backend);
    }
    let released = false;
    const answered = () => {
      if (!job) return;
      backend.prefill.remove(job);
      job = undefined;
      // A prompt held back until this backend's prompt work is done may go now.
      this.pump();
    };
    const end = (ran: boolean) => {
      if (released) return;
      released = true;
      answered();
      if (limited) {
        backend.inFlight -= 1;
        const left = backend.inFlightFor(model) - 1;
        if (left > 0) backend.modelInFlight.set(model, left);
        else backend.modelInFlight.delete(model);
        backend.busyUntil = 0;
      }
      if (cold) {
        const loading = (backend.loading.get(model) ?? 1) - 1;
        if (loading > 0) backend.loading.set(model, loading);
        else {
          backend.loading.delete(model);
          if (!backend.preloading.has(model)) backend.loadStartedAt.delete(model);
        }
        // The load is over (the request ran); /api/ps corrects this on the next poll.
        if (ran) {
          const until = this.now() + ASSUMED_KEEP_ALIVE_MS;
          backend.loaded.set(model, Math.max(backend.loaded.get(model) ?? 0, until));
        }
      }
      this.pool.requestEnded(backend);
    };
    return { backend, cold, answered, release: () => end(true), abandon: () => end(false) };
  }

  private pick(
    model: string,
    eligible: Backend[],
    limited: boolean,
    affinityKey: string | undefined,
    enqueuedAt: number,
    promptTokens: number | undefined,
    heldAhead = 0,
  ): Pick | undefined {
    this.heldTokens = 0;
    if (this.options.strategy === 'cache-aware')
      return this.pickCacheAware(model, eligible, limited, affinityKey, enqueuedAt, promptTokens, heldAhead);
    const now = this.now();
    const start = this.cursors.get(model) ?? 0;
    const free = (b: Backend) => !limited || this.hasSlotFor(b, model, now);
    let chosen: Backend | undefined;
    let chosenIndex = -1;
    for (let step = 0; step < eligible.length; step++) {
      const index = (start + step) % eligible.length;
      const backend = eligible[index] as Backend;
      if (!free(backend)) continue;
      if (this.options.strategy === 'round-robin') {
        chosen = backend;
        chosenIndex = index;
        break;
      }
      if (!chosen || backend.inFlight < chosen.inFlight) {
        chosen = backend;
        chosenIndex = index;
      }
    }
    if (!chosen) return undefined;
    this.cursors.set(model, chosenIndex + 1);
    return { backend: chosen };
  }

  /** cache-aware: a warm backend with a free slot (a conversation's own first), cold only if none (README). */
  private pickCacheAware(
    model: string,
    eligible: Backend[],
    limited: boolean,
    affinityKey: string | undefined,
    enqueuedAt: number,
    promptTokens: number | undefined,
    heldAhead: number,
  ): Pick | undefined {
    const now = this.now();
    this.costs.held = false;
    const free = (b: Backend) => !limited || this.hasSlotFor(b, model, now);
    // With the prompt's size known, a request whose prompt no cache holds goes where it starts soonest.
    const sized = limited && promptTokens !== undefined;
    let uncached = promptTokens ?? 0;
    const warm = eligible.filter((b) => b.warm(model, now));
    const warmFree = warm.filter(free);
    let chosen: Backend | undefined;
    const previous = affinityKey === undefined ? undefined : this.affinity.get(affinityKey);
    if (limited && previous !== undefined && now - enqueuedAt < (this.options.affinityWaitMs ?? 0)) {
      // Its previous backend is full for now: a short wait for it beats processing the prompt again.
      const home = warm.find((b) => b.id === previous);
      if (home && !free(home) && home.busyUntil <= now) return this.waitForHome(enqueuedAt);
    }
    if (affinityKey !== undefined && limited) this.relieveCachePressure(model, eligible, warm, now);
    if (warmFree.length > 0) {
      if (affinityKey !== undefined) {
        const choice = chooseForConversation(
          affinityKey,
          previous,
          warmFree,
          (b) => this.affinity.liveOn(b.id, model, now),
          this.options.maxParallel,
          this.options.affinityLoadFactor ?? 1.25,
        );
        chosen = choice?.backend;
        if (choice && !choice.hit && sized)
          chosen = this.costs.soonest(model, eligible, uncached, now, affinityKey, this.placement, heldAhead);
        if (chosen && chosen.id === previous) uncached -= this.affinity.tokensOf(affinityKey) ?? 0;
        if (chosen && previous !== undefined) this.countAffinity(chosen.id === previous);
      } else {
        chosen = sized
          ? this.costs.soonest(model, eligible, uncached, now, undefined, this.placement, heldAhead)
          : leastLoaded(model, warmFree);
      }
    } else if (warm.length === 0 || !limited || this.spills(model, warm, now - enqueuedAt)) {
      const cold = eligible.filter((b) => free(b) && !b.warm(model, now));
      // Where the load leaves the least prompt work ahead of it (other models' prompts share the GPU).
      chosen = sized ? this.costs.cheapest(model, cold, uncached, now) : leastLoaded(model, cold);
      if (chosen && affinityKey !== undefined && this.affinity.get(affinityKey) !== undefined)
        this.countAffinity(false);
    }
    if (!chosen) {
      if (sized && this.costs.held) this.heldTokens = uncached;
      return undefined;
    }
    const job = sized ? this.costs.add(chosen, model, uncached, now) : undefined;
    if (affinityKey !== undefined) this.affinity.set(affinityKey, chosen.id, model, now, promptTokens);
    return { backend: chosen, job };
  }

  /** Loads the model on the backend in the background (an empty generate), counted as a cold load. */
  private startPreload(model: string, target: Backend): void {
    const preload = this.events.preload;
    if (!preload) return;
    const started = this.now();
    target.preloading.add(model);
    target.loadStartedAt.set(model, started);
    this.noteCold(model, target);
    const loaded = () => {
      target.loaded.set(model, this.now() + ASSUMED_KEEP_ALIVE_MS);
      this.costs.timeLoad(this.now() - started);
    };
    preload(model, target)
      .then(loaded, () => undefined)
      .finally(() => {
        target.preloading.delete(model);
        if ((target.loading.get(model) ?? 0) === 0) target.loadStartedAt.delete(model);
        this.pump();
      });
  }

  /** A free slot for the model (every strategy counts Ollama's slots per model), no 503 hold, not shared-full. */
  private hasSlotFor(b: Backend, model: string, now: number): boolean {
    return b.inFlightFor(model) < this.options.maxParallel && b.busyUntil <= now && !b.sharedFull(model, now);
  }

  /** Loads the model on more backends in the background when the warm ones' caches are full. */
  private relieveCachePressure(model: string, eligible: Backend[], warm: Backend[], now: number): void {
    if (!this.events.preload) return;
    const demand = () =>
      warm.reduce((n, b) => n + this.affinity.liveOn(b.id, model, now), 1 + this.waitingFor(model));
    for (const target of preloadTargets(model, eligible, warm, demand, this.options.maxParallel, now)) {
      this.startPreload(model, target);
    }
  }

  /** Keeps a request waiting for its conversation's backend; the pump looks again when the wait is over. */
  private waitForHome(enqueuedAt: number): undefined {
    // Set once, when the request arrives (later looks come from the pump itself).
    if (enqueuedAt === this.now())
      setTimeout(() => this.pump(), (this.options.affinityWaitMs ?? 0) + 1).unref();
    return undefined;
  }

  private spills(model: string, warm: Backend[], waitedMs: number): boolean {
    const waiting = this.waitingFor(model);
    return maySpill(model, warm, waitedMs, this.coldWaitMs, waiting, this.options.maxParallel, this.now());
  }

  private waitingFor(model: string): number {
    let waiting = 0;
    for (const waiter of this.queue) if (waiter.model === model) waiting += 1;
    return waiting;
  }

  private countAffinity(hit: boolean): void {
    if (hit) this.stats.affinityHits += 1;
    else this.stats.affinityMisses += 1;
    this.events.onAffinity?.(hit);
  }

  /** Gives freed slots to waiters, oldest first; a waiter nobody can serve any more fails now. */
  private pump(): void {
    if (this.pumping || this.queue.size === 0) return;
    this.pumping = true;
    try {
      // Prompts held back ahead of a waiter go first: its estimate counts their work.
      let ahead = 0;
      for (const waiter of [...this.queue]) {
        let eligible: Backend[];
        try {
          eligible = this.candidates(waiter.model, waiter.exclude);
        } catch (error) {
          waiter.fail(error as RoutingError);
          continue;
        }
        const picked = this.pick(
          waiter.model,
          eligible,
          true,
          waiter.affinityKey,
          waiter.enqueuedAt,
          waiter.promptTokens,
          ahead,
        );
        if (picked) waiter.grant(this.lease(picked, waiter.model, true));
        else {
          waiter.heldTokens = this.heldTokens;
          ahead += waiter.heldTokens;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
