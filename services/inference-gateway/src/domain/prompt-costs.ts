import type { Backend } from './backend.js';
import type { PrefillJob } from './prefill-backlog.js';
import { chooseForConversation, leastLoaded, rankByKey } from './placement.js';

/**
 * A background load starts only when the best backend with the model would cost a prompt this many
 * times more than one that must load it (so that requests for a model being loaded, with little
 * prompt work between them, all wait for that one load).
 */
const LOAD_WAIT_MARGIN = 1.1;

/**
 * A prompt no cache holds is held back in the gateway, until the prompt work already sent to a
 * backend is done, when sending it now would add this many times more to times to first token than
 * holding it (and at least HOLD_MIN_SAVING_MS more): holding costs a round trip, and an estimate
 * that is off could leave a server idle for a moment.
 */
const HOLD_MARGIN = 1.1;
const HOLD_MIN_SAVING_MS = 200;

/** What `soonest` answers when the prompt is better held back in the gateway for now. */
export const HELD: unique symbol = Symbol('held');

/** A background load faster than this found the model loaded already: it says nothing about load time. */
const MIN_LOAD_SAMPLE_MS = 50;

/** What placing an uncached prompt needs from the router. */
export interface PlacementContext {
  maxParallel: number;
  affinityLoadFactor: number;
  hasSlotFor(b: Backend, model: string, now: number): boolean;
  /** Live conversations homed on the backend for the model. */
  homedOn(b: Backend, model: string, now: number): number;
  /** Starts loading the model on the backend in the background; undefined when the gateway cannot. */
  preload: ((model: string, target: Backend) => void) | undefined;
}

/**
 * cache-aware's estimate of what a prompt no cache holds costs on each backend: the wait for its
 * model (a load in flight there, or a whole load), then its share of the server's prompt rate with
 * the prompts sent there before it (each backend's PrefillBacklog), plus the delay it adds to them.
 * The load time starts from the setting and follows the gateway's own background loads.
 */
export class PromptCosts {
  private loadEstimateMs: number;
  private loadTimed = false;

  constructor(
    private readonly promptRate: number,
    loadEstimateMs: number,
  ) {
    this.loadEstimateMs = loadEstimateMs;
  }

  /** A background load took `ms`: the estimate follows it (the first one replaces the setting). */
  timeLoad(ms: number): void {
    if (ms < MIN_LOAD_SAMPLE_MS) return;
    this.loadEstimateMs = this.loadTimed ? 0.7 * this.loadEstimateMs + 0.3 * ms : ms;
    this.loadTimed = true;
  }

  /**
   * A request with `tokens` uncached prompt tokens was sent to the backend (processed once the model
   * is in); the job returned is taken off when the backend answers (`b.prefill.remove`).
   */
  add(b: Backend, model: string, tokens: number, now: number): PrefillJob | undefined {
    this.advance(b, now);
    return b.prefill.add(model, tokens, now + this.loadRemaining(b, model, now));
  }

  /** The backend where a prompt for the model costs least (by the estimate), or undefined. */
  cheapest(model: string, backends: readonly Backend[], tokens: number, now: number): Backend | undefined {
    let chosen: Backend | undefined;
    let soonest = Number.POSITIVE_INFINITY;
    for (const b of backends) {
      const wait = this.cost(b, model, tokens, now);
      if (wait < soonest) {
        chosen = b;
        soonest = wait;
      }
    }
    return chosen;
  }

  /**
   * The backend with a free slot for the model where a prompt no backend caches costs least. When
   * even the cheapest costs more than LOAD_WAIT_MARGIN × sending it to a backend without the model,
   * the model is loaded there in the background (one load per backend and model at a time) and that
   * backend is a candidate too. Among the backends within one prompt's processing time of the
   * cheapest, a conversation is homed on one with a slot cache to spare.
   *
   * HELD: the prompt is better held back until a backend's prompt work is done. A server shares
   * its prompt rate among the prompts it processes at once, so two long prompts sent together both
   * finish late (processor sharing); one sent once the other is done finishes as late, and the other
   * one a whole prompt sooner. When the backlogs the warm backends already have would make the prompt
   * share a server at a cost over HOLD_MARGIN × that of waiting for the first backend to drain, it waits
   * in the gateway's queue (the router looks again when a backend answers a prompt): at start-up,
   * while the first loads run and prompts pile up, each server then processes them one after the
   * other, first come first served, instead of all of them together late.
   */
  soonest(
    model: string,
    eligible: Backend[],
    tokens: number,
    now: number,
    affinityKey: string | undefined,
    ctx: PlacementContext,
    /** Prompt tokens held back in the gateway ahead of this one (they go first). */
    heldAhead = 0,
  ): Backend | typeof HELD | undefined {
    const warmFree = eligible.filter((b) => b.warm(model, now) && ctx.hasSlotFor(b, model, now));
    // A conversation is homed where a slot's cache is to spare whenever a warm backend has one, however
    // much cheaper a backend without would be now: there it would take another conversation's cache,
    // and each turn of one of them would process its whole prompt again (far more work, later, than
    // waiting for the backend with room; a cold one is loaded below when that wait is too long). Only
    // a backend still loading the model does not count while one has it loaded: a turn does not wait
    // for a background load started to relieve the caches (relieveCachePressure).
    const loadedThere = (b: Backend) => (b.loaded.get(model) ?? 0) > now;
    const spare =
      affinityKey === undefined
        ? warmFree
        : warmFree.filter((b) => ctx.homedOn(b, model, now) < ctx.maxParallel);
    const useSpare = spare.length > 0 && (spare.some(loadedThere) || !warmFree.some(loadedThere));
    const candidates = useSpare ? spare : warmFree;
    const waitOf = new Map(candidates.map((b) => [b, this.cost(b, model, tokens, now)]));
    let best = Math.min(...waitOf.values());
    // The least the prompt costs if held back until a warm backend's prompt work is done. Prompts held
    // ahead of it go first (first come, first served: one sent past them would delay them in turn),
    // so it is held whenever it would be alone, and then waits for their work too (spread over the
    // backends) — which a load elsewhere may beat.
    let held = Number.POSITIVE_INFINITY;
    for (const b of candidates) held = Math.min(held, this.heldCost(b, model, tokens, now));
    const holds = best > HOLD_MARGIN * held && best - held >= HOLD_MIN_SAVING_MS;
    held += (heldAhead * 1000) / this.promptRate / Math.max(1, candidates.length);
    // A load elsewhere starts when sending the prompt now would cost more than that load (the backends
    // with the model are short of prompt capacity: later prompts would queue for them too), or when
    // the prompt, held back behind the others, would wait longer than it.
    const stay = holds ? Math.max(best, held) : best;
    if (ctx.preload) {
      const cold = eligible.filter((b) => !b.warm(model, now) && ctx.hasSlotFor(b, model, now));
      const target = this.cheapest(model, cold, tokens, now);
      const targetWait = target === undefined ? best : this.cost(target, model, tokens, now);
      if (target && stay > LOAD_WAIT_MARGIN * targetWait) {
        ctx.preload(model, target);
        candidates.push(target);
        waitOf.set(target, targetWait);
        best = targetWait;
        // Held back, it would wait longer than this load: it goes there.
        if (holds) return target;
      } else if (holds) return HELD;
    } else if (holds) return HELD;
    const tolerance = (tokens * 1000) / this.promptRate;
    const near = candidates.filter((b) => (waitOf.get(b) ?? 0) <= best + tolerance);
    const homedOn = (b: Backend) => ctx.homedOn(b, model, now);
    const slots = ctx.maxParallel;
    const roomy = affinityKey === undefined ? near : near.filter((b) => homedOn(b) < slots);
    if (roomy.length > 0) {
      // Ties (nothing queued anywhere) go by the key's rendezvous order, or to the least loaded.
      const ordered =
        affinityKey === undefined
          ? [leastLoaded(model, roomy) as Backend, ...roomy]
          : rankByKey(affinityKey, roomy);
      let chosen = ordered[0] as Backend;
      for (const b of ordered) if ((waitOf.get(b) ?? 0) < (waitOf.get(chosen) ?? 0)) chosen = b;
      return chosen;
    }
    return chooseForConversation(
      affinityKey as string,
      undefined,
      near,
      homedOn,
      slots,
      ctx.affinityLoadFactor,
    )?.backend;
  }

  /** Estimated ms until the model is in on the backend: 0 when loaded, the rest of a load in flight, else a whole load. */
  private loadRemaining(b: Backend, model: string, now: number): number {
    if ((b.loaded.get(model) ?? 0) > now) return 0;
    const started = b.loadStartedAt.get(model);
    if (started === undefined) return this.loadEstimateMs;
    return Math.max(0, this.loadEstimateMs - (now - started));
  }

  /**
   * The estimated cost of sending a prompt of `tokens` uncached tokens to the backend: its own time to
   * first token (the wait for a load in flight or needed there, and its prompt processed at a share
   * of the server's rate) plus how much it delays the prompts sent there before it.
   */
  private cost(b: Backend, model: string, tokens: number, now: number): number {
    this.advance(b, now);
    return b.prefill.addedBy(tokens, now + this.loadRemaining(b, model, now), now, this.promptRate);
  }

  /**
   * What the prompt costs if held back until the backend's prompt work is done (and its model in),
   * then processed alone: its own wait only, as it delays no prompt sent there before it.
   */
  private heldCost(b: Backend, model: string, tokens: number, now: number): number {
    this.advance(b, now);
    const start = Math.max(
      b.prefill.drainedAt(now, this.promptRate),
      now + this.loadRemaining(b, model, now),
    );
    return start - now + (Math.max(tokens, 1) * 1000) / this.promptRate;
  }

  private advance(b: Backend, now: number): void {
    b.prefill.advance(now, this.promptRate, (model) => now + this.loadRemaining(b, model, now));
  }
}
