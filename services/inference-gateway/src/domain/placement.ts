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
 * The most live conversations of a model one backend may be the home of before a new conversation is
 * homed elsewhere: `factor` times the mean over `backends` (counting the new one), never below one.
 */
export function homeBound(homed: readonly number[], factor: number): number {
  if (homed.length === 0) return 1;
  const total = homed.reduce((sum, n) => sum + n, 1);
  return Math.max(1, Math.ceil((factor * total) / homed.length));
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

/**
 * Where to load a model in the background: once it is loaded somewhere (a model nobody has is loaded
 * once, the requests waiting for that load), as many more backends as the demand needs — the live
 * conversations homed on the warm backends and the requests waiting for the model, `slots` per
 * backend (an Ollama server caches one conversation per slot) — counting those loading already.
 */
export function preloadTargets(
  model: string,
  eligible: readonly Backend[],
  warm: readonly Backend[],
  demand: () => number,
  slots: number,
  now: number,
): Backend[] {
  const cold = eligible.filter((b) => !b.warm(model, now));
  if (cold.length === 0 || !warm.some((b) => (b.loaded.get(model) ?? 0) > now)) return [];
  // `warm` counts the backends loading the model in the background too.
  const have = warm.length;
  const missing = Math.ceil(demand() / slots) - have;
  if (missing <= 0) return [];
  cold.sort((a, b) => a.inFlight - b.inFlight);
  return cold.slice(0, missing);
}

/**
 * Whether a request that found every warm backend full may load the model elsewhere: after the
 * bounded wait, and only once the model is loaded somewhere (while its one load is still running,
 * requests wait for that load rather than start another); or at once when more requests wait for
 * the model than the warm backends have slots (the wait is longer than one request on each of them).
 */
export function maySpill(
  model: string,
  warm: readonly Backend[],
  waitedMs: number,
  coldWaitMs: number,
  waiting: number,
  slots: number,
  now: number,
): boolean {
  if (!warm.some((b) => (b.loaded.get(model) ?? 0) > now)) return false;
  return waitedMs >= coldWaitMs || waiting > warm.length * slots;
}

export interface AffinityChoice {
  backend: Backend;
  /** The conversation went back to the backend of its previous turn. */
  hit: boolean;
}

/**
 * Chooses among `free` (warm backends with a free slot for the model) for a conversation. A returning
 * conversation goes back to its previous backend, which holds its prompt in a slot's KV cache, unless
 * that backend is the home of more live conversations than slots and another has room. A new
 * conversation (or one whose backend is full or gone) gets a new home: in its rendezvous order, the
 * first backend that is the home of fewer live conversations of the model than it has slots (an
 * Ollama server caches one conversation per slot: a backend with more conversations than slots keeps
 * overwriting their caches), else the first within the bounded load (`factor` × the mean of live
 * conversations), else the one with the fewest.
 */
export function chooseForConversation(
  key: string,
  previous: string | undefined,
  free: readonly Backend[],
  homedOn: (backend: Backend) => number,
  slots: number,
  factor: number,
): AffinityChoice | undefined {
  if (free.length === 0) return undefined;
  const ranked = rankByKey(key, free);
  const back = previous === undefined ? undefined : free.find((b) => b.id === previous);
  if (back) {
    // Homed where more conversations than slots overwrite each other's caches: move to a backend
    // with room (one prompt processed again, then hits), else stay.
    if (homedOn(back) <= slots) return { backend: back, hit: true };
    const roomy = ranked.find((b) => b !== back && homedOn(b) < slots);
    return { backend: roomy ?? back, hit: roomy === undefined };
  }
  const homed = new Map(ranked.map((b) => [b, homedOn(b)]));
  const count = (b: Backend) => homed.get(b) ?? 0;
  const roomy = ranked.find((b) => count(b) < slots);
  if (roomy) return { backend: roomy, hit: false };
  const bound = homeBound([...homed.values()], factor);
  const within = ranked.find((b) => count(b) < bound);
  if (within) return { backend: within, hit: false };
  let fewest = ranked[0] as Backend;
  for (const b of ranked) if (count(b) < count(fewest)) fewest = b;
  return { backend: fewest, hit: false };
}

interface Home {
  backendId: string;
  model: string;
  /** Estimated prompt tokens of the conversation's last turn (what its slot's cache holds). */
  tokens: number | undefined;
}

const homeKey = (backendId: string, model: string) => `${backendId}\0${model}`;

/**
 * Which backend served each conversation last (bounded, least recently used forgotten first), and
 * per (backend, model) the conversations homed there whose last turn is at most `idleMs` old (live:
 * their caches compete for the backend's slots).
 */
export class AffinityMemory {
  private readonly entries = new Map<string, Home>();
  /** Per (backend, model): conversation key → time of its last turn, oldest first. */
  private readonly homed = new Map<string, Map<string, number>>();

  constructor(
    private readonly idleMs = 60_000,
    private readonly capacity = 100_000,
  ) {}

  get(key: string): string | undefined {
    return this.entries.get(key)?.backendId;
  }

  /** Estimated prompt tokens of the conversation's last turn, if known. */
  tokensOf(key: string): number | undefined {
    return this.entries.get(key)?.tokens;
  }

  set(key: string, backendId: string, model: string, now: number, tokens?: number): void {
    const old = this.entries.get(key);
    if (old) this.homed.get(homeKey(old.backendId, old.model))?.delete(key);
    this.entries.delete(key);
    this.entries.set(key, { backendId, model, tokens });
    let live = this.homed.get(homeKey(backendId, model));
    if (!live) {
      live = new Map();
      this.homed.set(homeKey(backendId, model), live);
    }
    live.set(key, now);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      const home = this.entries.get(oldest) as Home;
      this.homed.get(homeKey(home.backendId, home.model))?.delete(oldest);
      this.entries.delete(oldest);
    }
  }

  /** Live conversations of `model` homed on the backend (their last turn at most idleMs ago). */
  liveOn(backendId: string, model: string, now: number): number {
    const live = this.homed.get(homeKey(backendId, model));
    if (!live) return 0;
    for (const [key, seenAt] of live) {
      if (now - seenAt <= this.idleMs) break;
      live.delete(key);
    }
    return live.size;
  }

  get size(): number {
    return this.entries.size;
  }
}
