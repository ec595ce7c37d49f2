import { Admission, type Ticket } from './admission.js';
import type { SimModel } from './models.js';
import type { SimTunables } from './options.js';

/** Counters per model, so tests and benches can check slot limits and loads from outside. */
export interface ModelStats {
  /** Loads of the model into memory (a first request, or one after it was unloaded). */
  coldLoads: number;
  /** Times it was unloaded to make room for another model (OLLAMA_MAX_LOADED_MODELS). */
  evictions: number;
  /** Times it was unloaded because its keep_alive ran out. */
  expirations: number;
  /** Requests holding one of its slots now. */
  running: number;
  /** Most requests that held its slots at the same time since the last reset. */
  peakRunning: number;
}

/** A slot's KV cache: the prompt (and reply) text the slot last processed. */
interface Slot {
  busy: boolean;
  cached: string;
  lastUsed: number;
}

interface Resident {
  model: SimModel;
  state: 'loading' | 'loaded';
  admission: Admission;
  slots: Slot[];
  /** Called once the load finishes. */
  loadWaiters: Array<() => void>;
  loadTimer?: NodeJS.Timeout;
  /** Epoch ms when an idle model unloads; Infinity = never. */
  expiresAt: number;
  keepAliveMs: number;
  lastUsed: number;
  /** Set by an unload request while the model was busy. */
  unloadWhenIdle?: boolean;
}

/** What a request learns when it gets a slot. */
export interface Grant {
  /** process.hrtime.bigint() when its model was ready. */
  modelReadyAt: bigint;
  /** Characters at the start of its prompt already in the slot's cache. */
  cachedChars: number;
  /** Slots of its model busy now (itself included). */
  busySlots: () => number;
}

/** One request's way through load, queue and slot. */
export interface GpuTicket {
  state: 'loading' | 'queued' | 'running' | 'released';
  readonly model: SimModel;
  readonly keepAliveMs: number;
  readonly promptText: string;
  onGrant?: (grant: Grant) => void;
  modelReadyAt?: bigint;
  admission?: Ticket;
  slot?: Slot;
}

/** llama.cpp's default `--slot-prompt-similarity` (common/common.h), which Ollama does not override. */
const SLOT_PROMPT_SIMILARITY = 0.1;

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * What an Ollama server does with GPU memory and slots: loads a model on first use (once, however many
 * requests wait for it), keeps it for keep_alive after its last request, evicts the idle model used
 * least recently when OLLAMA_MAX_LOADED_MODELS are in, runs OLLAMA_NUM_PARALLEL requests per model and
 * queues the rest up to OLLAMA_MAX_QUEUE, and gives each request a free slot as llama-server does
 * (see `pickSlot`).
 */
export class GpuScheduler {
  private readonly residents = new Map<string, Resident>();
  /** Loads that wait for memory: another model must go idle first. */
  private readonly memoryWaiters: Array<{ model: SimModel; start: () => void }> = [];
  private readonly waiting = new Set<GpuTicket>();
  private perModel = new Map<string, ModelStats>();

  constructor(private readonly tunables: SimTunables) {}

  /**
   * Requests waiting for memory, for a slot, or for a load beyond the slots the loading model will
   * have (the first OLLAMA_NUM_PARALLEL of those get a slot as soon as it is in, so they do not queue).
   */
  get queued(): number {
    let queued = 0;
    const onLoad = new Map<string, number>();
    for (const ticket of this.waiting) {
      const resident = this.residents.get(ticket.model.name);
      if (ticket.state === 'loading' && resident?.state === 'loading') {
        onLoad.set(ticket.model.name, (onLoad.get(ticket.model.name) ?? 0) + 1);
      } else queued++;
    }
    const limit = this.tunables.maxParallel;
    for (const count of onLoad.values()) queued += limit <= 0 ? 0 : Math.max(0, count - limit);
    return queued;
  }

  /** A ticket that runs now or later, or null when the queue is full (Ollama answers 503). */
  enter(
    model: SimModel,
    keepAliveMs: number,
    promptText: string,
    onGrant: (grant: Grant) => void,
  ): GpuTicket | null {
    this.unloadExpired();
    const ticket: GpuTicket = { state: 'loading', model, keepAliveMs, promptText, onGrant };
    if (!this.runsSoon(model) && this.queued >= this.tunables.maxQueue) return null;
    this.waiting.add(ticket);
    this.whenLoaded(model, keepAliveMs, () => this.admit(ticket));
    return ticket;
  }

  /** Loads a model without running anything (Ollama's empty chat/generate); `ready` runs once it is in. */
  preload(model: SimModel, keepAliveMs: number, ready: () => void): void {
    this.unloadExpired();
    this.whenLoaded(model, keepAliveMs, () => {
      const resident = this.residents.get(model.name);
      if (resident) this.touch(resident, keepAliveMs);
      ready();
    });
  }

  /** Unloads a model (keep_alive 0 on an empty request): now when idle, else once its requests end. */
  unload(model: SimModel): void {
    const resident = this.residents.get(model.name);
    if (!resident || resident.state !== 'loaded') return;
    resident.unloadWhenIdle = true;
    if (resident.admission.running === 0 && resident.admission.queued === 0) this.drop(resident);
  }

  /** Frees the ticket's slot (keeping `cacheText` in it) or takes it out of the queue; safe twice. */
  release(ticket: GpuTicket, cacheText?: string): void {
    const state = ticket.state;
    ticket.state = 'released';
    this.waiting.delete(ticket);
    const resident = this.residents.get(ticket.model.name);
    if (!resident || state === 'released' || state === 'loading') return;
    if (ticket.slot) {
      ticket.slot.busy = false;
      if (cacheText !== undefined) ticket.slot.cached = cacheText;
      ticket.slot.lastUsed = Date.now();
    }
    if (state === 'running') this.statsOf(resident.model).running--;
    if (ticket.admission) resident.admission.release(ticket.admission);
    if (state === 'running') this.touch(resident, ticket.keepAliveMs);
    if (resident.admission.running === 0) this.afterIdle(resident);
  }

  /** What `/api/ps` lists: loaded models and when each unloads. */
  loaded(): Array<{ model: SimModel; expiresAt: number }> {
    this.unloadExpired();
    return [...this.residents.values()]
      .filter((r) => r.state === 'loaded')
      .map((r) => ({
        model: r.model,
        expiresAt: r.admission.running > 0 ? this.expiryFrom(r) : r.expiresAt,
      }));
  }

  setLimits(): void {
    for (const resident of this.residents.values()) {
      resident.admission.setLimits(this.tunables.maxParallel, Number.POSITIVE_INFINITY);
    }
    this.serveMemoryWaiters();
  }

  modelStats(): Record<string, ModelStats> {
    return Object.fromEntries([...this.perModel].map(([name, stats]) => [name, { ...stats }]));
  }

  resetStats(): void {
    const fresh = new Map<string, ModelStats>();
    for (const [name, stats] of this.perModel) {
      fresh.set(name, {
        coldLoads: 0,
        evictions: 0,
        expirations: 0,
        running: stats.running,
        peakRunning: stats.running,
      });
    }
    this.perModel = fresh;
  }

  /** Stops pending loads (the simulator is closing). */
  close(): void {
    for (const resident of this.residents.values()) if (resident.loadTimer) clearTimeout(resident.loadTimer);
  }

  // Runs now, or gets a slot as soon as a load that starts (or has started) finishes.
  private runsSoon(model: SimModel): boolean {
    const resident = this.residents.get(model.name);
    const limit = this.tunables.maxParallel;
    if (resident?.state === 'loaded') return resident.admission.canRunNow();
    if (resident) return limit <= 0 || resident.loadWaiters.length < limit;
    return this.hasRoom() || this.idleVictim() !== undefined;
  }

  private statsOf(model: SimModel): ModelStats {
    let stats = this.perModel.get(model.name);
    if (!stats) {
      stats = { coldLoads: 0, evictions: 0, expirations: 0, running: 0, peakRunning: 0 };
      this.perModel.set(model.name, stats);
    }
    return stats;
  }

  private whenLoaded(model: SimModel, keepAliveMs: number, ready: () => void): void {
    const resident = this.residents.get(model.name);
    if (resident?.state === 'loaded') return ready();
    if (resident) {
      resident.loadWaiters.push(ready);
      return;
    }
    const start = (): void => this.startLoad(model, keepAliveMs, ready);
    if (this.hasRoom() || this.evictOne()) start();
    else this.memoryWaiters.push({ model, start });
  }

  private hasRoom(): boolean {
    const limit = this.tunables.maxLoadedModels;
    return limit <= 0 || this.residents.size < limit;
  }

  // The idle loaded model used least recently goes, as Ollama picks what to unload.
  private idleVictim(): Resident | undefined {
    let victim: Resident | undefined;
    for (const resident of this.residents.values()) {
      const idle = resident.admission.running === 0 && resident.admission.queued === 0;
      if (resident.state !== 'loaded' || !idle) continue;
      if (!victim || resident.lastUsed < victim.lastUsed) victim = resident;
    }
    return victim;
  }

  private evictOne(): boolean {
    const victim = this.idleVictim();
    if (!victim) return false;
    this.statsOf(victim.model).evictions++;
    this.drop(victim);
    return true;
  }

  private startLoad(model: SimModel, keepAliveMs: number, ready: () => void): void {
    // Another waiter may have started this model's load while this one waited for memory.
    const existing = this.residents.get(model.name);
    if (existing) return existing.state === 'loaded' ? ready() : void existing.loadWaiters.push(ready);
    const resident: Resident = {
      model,
      state: 'loading',
      admission: new Admission(this.tunables.maxParallel, Number.POSITIVE_INFINITY),
      slots: [],
      loadWaiters: [ready],
      expiresAt: Number.POSITIVE_INFINITY,
      keepAliveMs,
      lastUsed: Date.now(),
    };
    this.residents.set(model.name, resident);
    this.statsOf(model).coldLoads++;
    const loadMs = model.loadMs ?? this.tunables.loadMs;
    if (loadMs <= 0) return this.finishLoad(resident);
    resident.loadTimer = setTimeout(() => this.finishLoad(resident), loadMs);
  }

  private finishLoad(resident: Resident): void {
    resident.loadTimer = undefined;
    resident.state = 'loaded';
    this.touch(resident, resident.keepAliveMs);
    const waiters = resident.loadWaiters.splice(0);
    for (const ready of waiters) ready();
    if (resident.admission.running === 0) this.afterIdle(resident);
  }

  private admit(ticket: GpuTicket): void {
    if (ticket.state === 'released') return;
    const resident = this.residents.get(ticket.model.name);
    if (!resident) return;
    ticket.modelReadyAt = process.hrtime.bigint();
    const entry = resident.admission.tryEnter();
    if (!entry) return;
    ticket.admission = entry;
    if (entry.state === 'running') return this.grant(ticket, resident);
    ticket.state = 'queued';
    entry.onGrant = () => this.grant(ticket, resident);
  }

  private grant(ticket: GpuTicket, resident: Resident): void {
    this.waiting.delete(ticket);
    ticket.state = 'running';
    const slot = this.pickSlot(resident, ticket.promptText);
    slot.busy = true;
    ticket.slot = slot;
    const cachedChars = this.tunables.promptCache ? commonPrefixLength(slot.cached, ticket.promptText) : 0;
    resident.lastUsed = Date.now();
    resident.expiresAt = Number.POSITIVE_INFINITY;
    const stats = this.statsOf(resident.model);
    stats.running++;
    stats.peakRunning = Math.max(stats.peakRunning, stats.running);
    ticket.onGrant?.({
      modelReadyAt: ticket.modelReadyAt ?? process.hrtime.bigint(),
      cachedChars,
      busySlots: () => resident.admission.running,
    });
  }

  /**
   * The slot llama-server gives the request (Ollama runs every GGML model in llama-server, started
   * by llm/llama_server.go with `-np OLLAMA_NUM_PARALLEL` and llama.cpp's default
   * `--slot-prompt-similarity 0.1`; see `get_available_slot` in llama.cpp's
   * tools/server/server-context.cpp): among the free slots holding a cache, the one whose common
   * prefix is the largest fraction of the prompt, if that fraction is above 0.1; otherwise the free
   * slot used least recently (an empty slot first; of equals, the last). So a new conversation that
   * shares only a short opening with a live one's slot takes another slot instead of overwriting it.
   */
  private pickSlot(resident: Resident, promptText: string): Slot {
    const limit = this.tunables.maxParallel;
    while (limit > 0 && resident.slots.length < limit)
      resident.slots.push({ busy: false, cached: '', lastUsed: -1 });
    let best: Slot | undefined;
    if (this.tunables.promptCache && promptText.length > 0) {
      let bestSimilarity = 0;
      for (const slot of resident.slots) {
        if (slot.busy || slot.cached === '') continue;
        const similarity = commonPrefixLength(slot.cached, promptText) / promptText.length;
        if (similarity > bestSimilarity && similarity > SLOT_PROMPT_SIMILARITY) {
          best = slot;
          bestSimilarity = similarity;
        }
      }
    }
    if (best) return best;
    for (const slot of resident.slots) {
      if (slot.busy) continue;
      if (!best || slot.lastUsed <= best.lastUsed) best = slot;
    }
    if (best) return best;
    // Unlimited parallelism: as many slots as requests.
    const fresh: Slot = { busy: false, cached: '', lastUsed: -1 };
    resident.slots.push(fresh);
    return fresh;
  }

  private touch(resident: Resident, keepAliveMs: number): void {
    resident.keepAliveMs = keepAliveMs;
    resident.lastUsed = Date.now();
    resident.expiresAt = this.expiryFrom(resident);
  }

  private expiryFrom(resident: Resident): number {
    const keepAlive = resident.keepAliveMs;
    return keepAlive < 0 ? Number.POSITIVE_INFINITY : Date.now() + keepAlive;
  }

  private afterIdle(resident: Resident): void {
    const expire = resident.keepAliveMs === 0 || resident.unloadWhenIdle === true;
    if (expire && resident.state === 'loaded' && resident.admission.queued === 0) {
      this.statsOf(resident.model).expirations++;
      this.drop(resident);
    }
    this.serveMemoryWaiters();
  }

  private unloadExpired(): void {
    const now = Date.now();
    for (const resident of [...this.residents.values()]) {
      if (
        resident.state === 'loaded' &&
        resident.admission.running === 0 &&
        resident.admission.queued === 0 &&
        resident.expiresAt <= now
      ) {
        this.statsOf(resident.model).expirations++;
        this.drop(resident);
      }
    }
  }

  private drop(resident: Resident): void {
    if (resident.loadTimer) clearTimeout(resident.loadTimer);
    this.residents.delete(resident.model.name);
  }

  private serveMemoryWaiters(): void {
    while (this.memoryWaiters.length > 0 && (this.hasRoom() || this.evictOne())) {
      this.memoryWaiters.shift()?.start();
    }
  }
}
