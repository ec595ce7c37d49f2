import { PrefillBacklog } from './prefill-backlog.js';
import { RateWindow } from './rate-window.js';

/** How long a load this gateway saw finish counts as loaded until /api/ps says otherwise. */
export const ASSUMED_KEEP_ALIVE_MS = 5 * 60 * 1000;

export type BackendState = 'pending' | 'healthy' | 'ejected' | 'draining';

/** One model entry as a backend's /api/tags lists it (kept whole so /api/tags can answer the union). */
export interface TagEntry {
  name: string;
  model?: string;
  modified_at?: string;
  [field: string]: unknown;
}

export interface BackendTarget {
  /** Stable identity: the pod name under Kubernetes discovery, the URL for a static list. */
  id: string;
  /** Base URL without a trailing slash. */
  url: string;
}

/** One Ollama server: where it is, whether it may take traffic, what it holds, how busy it is. */
export class Backend {
  state: BackendState = 'pending';
  /** Normalized model name → its /api/tags entry. */
  models = new Map<string, TagEntry>();
  inventoryLoaded = false;
  version: string | undefined;
  inFlight = 0;
  /** Requests running per model (Ollama's NUM_PARALLEL slots are per loaded model). */
  readonly modelInFlight = new Map<string, number>();
  /** Loaded models (normalized name → expires_at in ms) as its /api/ps last said, or as a load we saw finish. */
  loaded = new Map<string, number>();
  /** Models this gateway sent a cold request for and whose load has not been seen to finish (single flight). */
  readonly loading = new Map<string, number>();
  /** Models this gateway is loading here in the background, without a request waiting (cache-aware). */
  readonly preloading = new Set<string>();
  /** When this gateway started loading a model here (a cold request or a background load), until it is in. */
  readonly loadStartedAt = new Map<string, number>();
  /** cache-aware: the uncached prompt tokens this gateway sent here, not processed yet (estimated). */
  readonly prefill = new PrefillBacklog();
  /** Models whose slots here other gateway replicas hold (shared slots said full): model → until (ms). */
  readonly sharedFullUntil = new Map<string, number>();
  /** A 503 "server busy" answer: no new work until one of its requests ends (or a short while passes). */
  busyUntil = 0;
  consecutiveFailures = 0;
  /** Ejections in a row; the cooldown doubles with each. */
  ejections = 0;
  ejectedUntil = 0;
  healthySince = 0;
  lastError: string | undefined;
  errors = 0;
  readonly tokenRate: RateWindow;

  constructor(
    readonly id: string,
    readonly url: string,
    tokenRateWindowMs: number,
  ) {
    this.tokenRate = new RateWindow(tokenRateWindowMs);
  }

  /** May take new requests at all (ignoring its concurrency limit). */
  get routable(): boolean {
    return this.state === 'healthy';
  }

  holds(model: string): boolean {
    return this.models.has(model);
  }

  /** The model is loaded here, or being loaded by this gateway (for a request or in the background). */
  warm(model: string, now: number): boolean {
    if ((this.loading.get(model) ?? 0) > 0 || this.preloading.has(model)) return true;
    const expiresAt = this.loaded.get(model);
    return expiresAt !== undefined && expiresAt > now;
  }

  /** Another replica holds every slot of the model here, as last asked. */
  sharedFull(model: string, now: number): boolean {
    return (this.sharedFullUntil.get(model) ?? 0) > now;
  }

  inFlightFor(model: string): number {
    return this.modelInFlight.get(model) ?? 0;
  }

  hasFreeSlot(maxParallel: number, now: number): boolean {
    return this.inFlight < maxParallel && this.busyUntil <= now;
  }
}
