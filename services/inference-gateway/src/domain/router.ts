import { ASSUMED_KEEP_ALIVE_MS, type Backend } from './backend.js';
import {
  CacheAwareRouting,
  heldTokensOf,
  type PickRequest,
  type Placed,
  type Picked,
} from './cache-aware.js';
import type { BackendPool } from './pool.js';
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
  private readonly cacheAware: CacheAwareRouting;
  readonly stats = { coldLoads: 0, affinityHits: 0, affinityMisses: 0 };

  constructor(
    private readonly pool: BackendPool,
    private readonly options: RouterOptions,
    private readonly events: RouterEvents = {},
    private readonly now: () => number = Date.now,
    /** Slots counted across gateway replicas (Redis); without it, this replica counts alone. */
    private readonly shared?: SharedSlots,
  ) {
    this.cacheAware = new CacheAwareRouting(options, events, {
      now: () => this.now(),
      hasSlotFor: (b, model, now) => this.hasSlotFor(b, model, now),
      waitingFor: (model) => this.waitingFor(model),
      noteCold: (model, backend) => this.noteCold(model, backend),
      countAffinity: (hit) => this.countAffinity(hit),
      pump: () => this.pump(),
    });
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
    const immediate = this.pick({
      model,
      eligible,
      limited,
      affinityKey,
      enqueuedAt: this.now(),
      promptTokens,
      heldAhead: ahead,
    });
    if (immediate && 'backend' in immediate) return Promise.resolve(this.lease(immediate, model, limited));
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
        heldTokens: heldTokensOf(immediate),
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
          ? setTimeout(() => this.pump(), this.cacheAware.coldWaitMs + 1)
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

  private noteCold(model: string, backend: Backend): void {
    this.stats.coldLoads += 1;
    this.events.onColdLoad?.(model, backend);
  }

  private lease(picked: Placed, model: string, limited: boolean): LocalLease {
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

  private pick(request: PickRequest): Picked {
    if (this.options.strategy === 'cache-aware') return this.cacheAware.pick(request);
    const { model, eligible, limited } = request;
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

  /** A free slot for the model (every strategy counts Ollama's slots per model), no 503 hold, not shared-full. */
  private hasSlotFor(b: Backend, model: string, now: number): boolean {
    return b.inFlightFor(model) < this.options.maxParallel && b.busyUntil <= now && !b.sharedFull(model, now);
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
        const picked = this.pick({
          model: waiter.model,
          eligible,
          limited: true,
          affinityKey: waiter.affinityKey,
          enqueuedAt: waiter.enqueuedAt,
          promptTokens: waiter.promptTokens,
          heldAhead: ahead,
        });
        if (picked && 'backend' in picked) waiter.grant(this.lease(picked, waiter.model, true));
        else {
          waiter.heldTokens = heldTokensOf(picked);
          ahead += waiter.heldTokens;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
