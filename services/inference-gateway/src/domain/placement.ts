import { createHash } from 'node:crypto';
import type { Backend } from './backend.js';

/**
 * Cache-aware placement rules, pure so they can be tested alone: a conversation goes back to the
 * backend that holds its KV cache while that backend's load is within a bound (consistent hashing
 * with bounded loads), otherwise to the least loaded backend that has the model loaded.
 */

/** Rendezvous (highest random weight) score of a key on a backend: stable while the set changes. */
export function rendezvousScore(key: string, backendId: string): number {
  return createHash('sha1').update(key).update('\0').update(backendId).digest().readUInt32BE(0);
}

/** Backends ordered by their rendezvous score for `key`, best first. */
export function rankByKey(key: string, backends: readonly Backend[]): Backend[] {
  return backends
    .map((backend) => ({ backend, score: rendezvousScore(key, backend.id) }))
    .sort((a, b) => b.score - a.score || a.backend.id.localeCompare(b.backend.id))
    .map((entry) => entry.backend);
}

/**
 * The most requests of `model` one backend may run for an affine conversation: `factor` times the
 * mean over the warm backends (counting the new request), never below one.
 */
export function loadBound(model: string, warm: readonly Backend[], factor: number): number {
  if (warm.length === 0) return 1;
  let total = 1;
  for (const backend of warm) total += backend.inFlightFor(model);
  return Math.max(1, Math.ceil((factor * total) / warm.length));
}

/** The least loaded backend for a model: fewest of its requests, then fewest overall. */
export function leastLoaded(model: string, backends: readonly Backend[]): Backend | undefined {
  let best: Backend | undefined;
  for (const backend of backends) {
    if (
      !best ||
      backend.inFlightFor(model) < best.inFlightFor(model) ||
      (backend.inFlightFor(model) === best.inFlightFor(model) && backend.inFlight < best.inFlight)
    ) {
      best = backend;
    }
  }
  return best;
}

export interface AffinityChoice {
  backend: Backend;
  /** The conversation went where its previous turn went (or its home backend on a first turn). */
  hit: boolean;
}

/**
 * Chooses among `free` (warm backends with a free slot) for a conversation: its previous backend,
 * else its rendezvous order, the first within the load bound; else the least loaded.
 */
export function chooseForConversation(
  model: string,
  key: string,
  previous: string | undefined,
  warm: readonly Backend[],
  free: readonly Backend[],
  factor: number,
): AffinityChoice | undefined {
  if (free.length === 0) return undefined;
  const bound = loadBound(model, warm, factor);
  const within = (b: Backend) => b.inFlightFor(model) < bound;
  const home = previous ?? rankByKey(key, warm)[0]?.id;
  const homeBackend = free.find((b) => b.id === home);
  if (homeBackend && within(homeBackend)) return { backend: homeBackend, hit: true };
  const next = rankByKey(key, free).find(within);
  if (next) return { backend: next, hit: false };
  return { backend: leastLoaded(model, free) as Backend, hit: false };
}

/** Which backend served each conversation last; bounded, least recently used forgotten first. */
export class AffinityMemory {
  private readonly entries = new Map<string, string>();

  constructor(private readonly capacity = 100_000) {}

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  set(key: string, backendId: string): void {
    this.entries.delete(key);
    this.entries.set(key, backendId);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
