import type { Backend } from './backend.js';
import type { BackendPool } from './pool.js';

export type RoutingStrategy = 'round-robin' | 'least-outstanding';

export interface RouterOptions {
  strategy: RoutingStrategy;
  maxParallel: number;
  queueMax: number;
  queueTimeoutMs: number;
  /** How long a backend that answered 503 "busy" gets no new work unless one of its requests ends. */
  busyHoldMs?: number;
}

/** Why no backend could be given; the route turns it into the right HTTP answer. */
export class RoutingError extends Error {
  constructor(
    readonly reason: 'model_not_found' | 'no_backend' | 'queue_full' | 'queue_timeout' | 'aborted',
    message: string,
  ) {
    super(message);
    this.name = 'RoutingError';
  }
}

/** A slot on one backend; release it exactly once when the request ends. */
export interface Lease {
  readonly backend: Backend;
  release(): void;
}

export interface AcquireOptions {
  /** Backends already tried for this request. */
  exclude?: ReadonlySet<Backend>;
  signal?: AbortSignal;
  /** Count against the backend's concurrency limit (generations, embeddings); false for cheap calls. */
  limited?: boolean;
}

interface Waiter {
  model: string;
  exclude: ReadonlySet<Backend> | undefined;
  enqueuedAt: number;
  grant(lease: Lease): void;
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

  constructor(
    private readonly pool: BackendPool,
    private readonly options: RouterOptions,
    private readonly onQueueWait: (seconds: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    pool.onChange(() => this.pump());
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

  acquire(model: string, { exclude, signal, limited = true }: AcquireOptions = {}): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new RoutingError('aborted', 'request aborted'));
    let eligible: Backend[];
    try {
      eligible = this.candidates(model, exclude);
    } catch (error) {
      return Promise.reject(error);
    }
    const immediate = this.pick(model, eligible, limited);
    if (immediate) return Promise.resolve(this.lease(immediate, limited));
    if (this.queue.size >= this.options.queueMax) {
      return Promise.reject(new RoutingError('queue_full', 'every backend holding the model is busy'));
    }
    return new Promise<Lease>((resolve, reject) => {
      const cleanup = () => {
        this.queue.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        model,
        exclude,
        enqueuedAt: this.now(),
        grant: (lease) => {
          cleanup();
          this.onQueueWait((this.now() - waiter.enqueuedAt) / 1000);
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
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.add(waiter);
    });
  }

  /** Seconds a shed client should wait before trying again. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.queueTimeoutMs / 1000));
  }

  private lease(backend: Backend, limited: boolean): Lease {
    if (limited) backend.inFlight += 1;
    let released = false;
    return {
      backend,
      release: () => {
        if (released) return;
        released = true;
        if (limited) {
          backend.inFlight -= 1;
          backend.busyUntil = 0;
        }
        this.pool.requestEnded(backend);
      },
    };
  }

  private pick(model: string, eligible: Backend[], limited: boolean): Backend | undefined {
    const now = this.now();
    const start = this.cursors.get(model) ?? 0;
    const free = (b: Backend) => !limited || b.hasFreeSlot(this.options.maxParallel, now);
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
    if (chosen) this.cursors.set(model, chosenIndex + 1);
    return chosen;
  }

  /** Gives freed slots to waiters, oldest first; a waiter nobody can serve any more fails now. */
  private pump(): void {
    if (this.pumping || this.queue.size === 0) return;
    this.pumping = true;
    try {
      for (const waiter of [...this.queue]) {
        let eligible: Backend[];
        try {
          eligible = this.candidates(waiter.model, waiter.exclude);
        } catch (error) {
          waiter.fail(error as RoutingError);
          continue;
        }
        const backend = this.pick(waiter.model, eligible, true);
        if (backend) waiter.grant(this.lease(backend, true));
      }
    } finally {
      this.pumping = false;
    }
  }
}
