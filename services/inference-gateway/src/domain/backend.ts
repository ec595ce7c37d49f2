import { RateWindow } from './rate-window.js';

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

  hasFreeSlot(maxParallel: number, now: number): boolean {
    return this.inFlight < maxParallel && this.busyUntil <= now;
  }
}
