import { ASSUMED_KEEP_ALIVE_MS, type Backend } from './backend.js';
import { AffinityMemory, chooseForConversation, leastLoaded, maySpill, preloadTargets } from './placement.js';
import type { PrefillJob } from './prefill-backlog.js';
import { HELD, type PlacementContext, PromptCosts } from './prompt-costs.js';
import type { RouterEvents, RouterOptions } from './routing-types.js';

/** A backend picked for a request, and (cache-aware) its prompt in that backend's estimated backlog. */
export interface Placed {
  backend: Backend;
  job?: PrefillJob;
}

/** cache-aware: the request's uncached prompt is held back in the gateway (its tokens), for now. */
export interface Held {
  held: number;
}

/** What a pick gives: a backend, a prompt held back, or nothing yet (the request waits). */
export type Picked = Placed | Held | undefined;

/** What a backend is picked for: one request (or a queued waiter), as the router sees it now. */
export interface PickRequest {
  model: string;
  eligible: Backend[];
  /** Counts against the backend's slots (false for cheap calls, as AcquireOptions.limited). */
  limited: boolean;
  affinityKey: string | undefined;
  enqueuedAt: number;
  promptTokens: number | undefined;
  /** Prompt tokens held back in the gateway ahead of this one (they go first). */
  heldAhead: number;
}

/** The prompt tokens a pick held back (0 when it placed the request or found no backend). */
export const heldTokensOf = (picked: Picked): number =>
  picked !== undefined && 'held' in picked ? picked.held : 0;

/** What the cache-aware strategy needs from the router that runs it. */
export interface CacheAwareHost {
  now(): number;
  /** A free slot for the model on the backend (every strategy's rule). */
  hasSlotFor(b: Backend, model: string, now: number): boolean;
  /** Requests for the model waiting in the router's queue. */
  waitingFor(model: string): number;
  /** A load started on the backend (counted and reported as a cold load). */
  noteCold(model: string, backend: Backend): void;
  /** A returning conversation went back to its previous backend, or did not. */
  countAffinity(hit: boolean): void;
  /** Looks at the queue again (a load finished, a wait is over). */
  pump(): void;
}

/**
 * The `cache-aware` strategy (README: Routing): a warm backend with a free slot, a conversation's
 * own first, cold only if none; prompts no cache holds placed by their estimated cost (PromptCosts),
 * or held back; background loads when the warm backends' caches or prompt capacity run short.
 */
export class CacheAwareRouting {
  private readonly affinity: AffinityMemory;
  /** What a prompt no cache holds costs on each backend (its wait for a load and prompt work). */
  private readonly costs: PromptCosts;
  private readonly placement: PlacementContext;

  constructor(
    private readonly options: RouterOptions,
    private readonly events: RouterEvents,
    private readonly host: CacheAwareHost,
  ) {
    this.affinity = new AffinityMemory(options.affinityIdleMs ?? 60_000);
    this.costs = new PromptCosts(options.promptTokensPerSecond ?? 2_000, options.loadEstimateMs ?? 5_000);
    this.placement = {
      maxParallel: options.maxParallel,
      affinityLoadFactor: options.affinityLoadFactor ?? 1.25,
      hasSlotFor: (b, model, now) => host.hasSlotFor(b, model, now),
      homedOn: (b, model, now) => this.affinity.liveOn(b.id, model, now),
      preload: events.preload ? (model, target) => this.startPreload(model, target) : undefined,
    };
  }

  /** How long a request waits for a slot where its model is loaded before a cold backend may take it. */
  get coldWaitMs(): number {
    return this.options.coldWaitMs ?? 2_000;
  }

  pick(request: PickRequest): Picked {
    const { model, eligible, limited, affinityKey, enqueuedAt, promptTokens, heldAhead } = request;
    const now = this.host.now();
    const free = (b: Backend) => !limited || this.host.hasSlotFor(b, model, now);
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
    // Where a prompt no cache holds starts soonest (by PromptCosts' estimate), or HELD.
    const soonest = () =>
      this.costs.soonest(model, eligible, uncached, now, affinityKey, this.placement, heldAhead);
    if (warmFree.length > 0) {
      if (affinityKey !== undefined) {
        const { maxParallel, affinityLoadFactor, homedOn } = this.placement;
        const homed = (b: Backend) => homedOn(b, model, now);
        const choice = chooseForConversation(
          affinityKey,
          previous,
          warmFree,
          homed,
          maxParallel,
          affinityLoadFactor,
        );
        let placed: Backend | typeof HELD | undefined = choice?.backend;
        if (choice && !choice.hit && sized) placed = soonest();
        if (placed === HELD) return { held: uncached };
        chosen = placed;
        if (chosen && chosen.id === previous) uncached -= this.affinity.tokensOf(affinityKey) ?? 0;
        if (chosen && previous !== undefined) this.host.countAffinity(chosen.id === previous);
      } else if (sized) {
        const placed = soonest();
        if (placed === HELD) return { held: uncached };
        chosen = placed;
      } else chosen = leastLoaded(model, warmFree);
    } else if (warm.length === 0 || !limited || this.spills(model, warm, now - enqueuedAt)) {
      const cold = eligible.filter((b) => free(b) && !b.warm(model, now));
      // Where the load leaves the least prompt work ahead of it (other models' prompts share the GPU).
      chosen = sized ? this.costs.cheapest(model, cold, uncached, now) : leastLoaded(model, cold);
      if (chosen && affinityKey !== undefined && this.affinity.get(affinityKey) !== undefined)
        this.host.countAffinity(false);
    }
    if (!chosen) return undefined;
    const job = sized ? this.costs.add(chosen, model, uncached, now) : undefined;
    if (affinityKey !== undefined) this.affinity.set(affinityKey, chosen.id, model, now, promptTokens);
    return { backend: chosen, job };
  }

  /** Loads the model on the backend in the background (an empty generate), counted as a cold load. */
  private startPreload(model: string, target: Backend): void {
    const preload = this.events.preload;
    if (!preload) return;
    const started = this.host.now();
    target.preloading.add(model);
    target.loadStartedAt.set(model, started);
    this.host.noteCold(model, target);
    const loaded = () => {
      target.loaded.set(model, this.host.now() + ASSUMED_KEEP_ALIVE_MS);
      this.costs.timeLoad(this.host.now() - started);
    };
    preload(model, target)
      .then(loaded, () => undefined)
      .finally(() => {
        target.preloading.delete(model);
        if ((target.loading.get(model) ?? 0) === 0) target.loadStartedAt.delete(model);
        this.host.pump();
      });
  }

  /** Loads the model on more backends in the background when the warm ones' caches are full. */
  private relieveCachePressure(model: string, eligible: Backend[], warm: Backend[], now: number): void {
    if (!this.events.preload) return;
    const demand = () =>
      warm.reduce((n, b) => n + this.affinity.liveOn(b.id, model, now), 1 + this.host.waitingFor(model));
    for (const target of preloadTargets(model, eligible, warm, demand, this.options.maxParallel, now)) {
      this.startPreload(model, target);
    }
  }

  /** Keeps a request waiting for its conversation's backend; the pump looks again when the wait is over. */
  private waitForHome(enqueuedAt: number): undefined {
    // Set once, when the request arrives (later looks come from the pump itself).
    if (enqueuedAt === this.host.now())
      setTimeout(() => this.host.pump(), (this.options.affinityWaitMs ?? 0) + 1).unref();
    return undefined;
  }

  private spills(model: string, warm: Backend[], waitedMs: number): boolean {
    const waiting = this.host.waitingFor(model);
    return maySpill(
      model,
      warm,
      waitedMs,
      this.coldWaitMs,
      waiting,
      this.options.maxParallel,
      this.host.now(),
    );
  }
}
