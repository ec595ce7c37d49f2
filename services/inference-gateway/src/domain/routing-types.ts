import type { Backend } from './backend.js';

// The router's vocabulary: strategies, options, events, leases and why a request got no backend.

export type RoutingStrategy = 'round-robin' | 'least-outstanding' | 'cache-aware';

/** What the router reports as it places requests (metrics, /admin/backends). */
export interface RouterEvents {
  onQueueWait?: (seconds: number) => void;
  /** A request went to a backend where its model was neither loaded nor loading. */
  onColdLoad?: (model: string, backend: Backend) => void;
  /** A conversation seen before went back to its previous backend (hit) or elsewhere. */
  onAffinity?: (hit: boolean) => void;
  /** cache-aware: loads a model on a backend in the background (an empty generate); resolves once it is in. */
  preload?: (model: string, backend: Backend) => Promise<void>;
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
  /** The backend answered (its first byte): the prompt is processed (cache-aware's estimate drops it). */
  answered?(): void;
  release(): void;
}

export interface AcquireOptions {
  /** Backends already tried for this request. */
  exclude?: ReadonlySet<Backend>;
  signal?: AbortSignal;
  /** Count against the backend's concurrency limit (generations, embeddings); false for cheap calls. */
  limited?: boolean;
  /** A conversation key (cache-aware strategy): turns of one conversation go back to one backend. */
  affinityKey?: string;
  /** Size of the request body in bytes: cache-aware estimates its prompt tokens from it (4 bytes a token). */
  promptBytes?: number;
}

export interface RouterOptions {
  strategy: RoutingStrategy;
  maxParallel: number;
  queueMax: number;
  queueTimeoutMs: number;
  /** How long a backend that answered 503 "busy" gets no new work unless one of its requests ends. */
  busyHoldMs?: number;
  /** cache-aware: how long a request waits for a slot where its model is loaded before loading it elsewhere. */
  coldWaitMs?: number;
  /**
   * cache-aware: a new conversation is homed on a backend that already holds as many live
   * conversations of the model as it has slots only while it holds at most this × the mean.
   */
  affinityLoadFactor?: number;
  /** cache-aware: a conversation without a turn for this long no longer counts as live on its backend. */
  affinityIdleMs?: number;
  /**
   * cache-aware: how long a returning conversation waits for a slot on its previous backend (whose
   * cache holds its prompt) before it goes elsewhere and its prompt is processed again.
   */
  affinityWaitMs?: number;
  /**
   * cache-aware: a backend's prompt processing rate (tokens/s, shared by the prompts it processes at
   * once), to estimate how long a request waits behind the uncached prompts sent there before it.
   */
  promptTokensPerSecond?: number;
  /** cache-aware: how long a model load takes until this gateway has timed one of its background loads. */
  loadEstimateMs?: number;
}
