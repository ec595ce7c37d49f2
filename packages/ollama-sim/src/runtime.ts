import type { ServerResponse } from 'node:http';
import type { ModelRegistry, SimModel } from './models.js';
import {
  resolveTunables,
  validateFailure,
  validateTunables,
  type FailureSetting,
  type OllamaSimOptions,
  type SimTunables,
} from './options.js';
import { SimHttpError } from './http-util.js';
import { PrefillShare } from './prefill.js';
import { contentText } from './generator.js';
import type { ChatMessageLike } from './reply.js';
import { GpuScheduler, type ModelStats } from './scheduler.js';

/** Counters tests read to see what reached the simulator. */
export interface SimStats {
  /** Requests by route, e.g. `{ "POST /api/chat": 3 }`; unknown routes count as "other". */
  requests: Record<string, number>;
  /** Generations admitted and not yet finished. */
  activeStreams: number;
  /** Generations waiting for a parallel slot. */
  queued: number;
  /** Generations that sent their final chunk / whole reply. */
  completed: number;
  /** Generations stopped because the client went away (while queued or while generating). */
  cancelled: number;
  /** Requests answered 503 because the queue was full. */
  rejectedBusy: number;
  /** Tokens generated (streamed or not). */
  tokensEmitted: number;
  /** Requests hit by each injected failure. */
  failures: { refused: number; error500: number; dropped: number; hung: number };
  /** Per model: cold loads, evictions, expirations, slots in use and their peak since the last reset. */
  models: Record<string, ModelStats>;
}

export function emptyStats(): SimStats {
  return {
    requests: {},
    activeStreams: 0,
    queued: 0,
    completed: 0,
    cancelled: 0,
    rejectedBusy: 0,
    tokensEmitted: 0,
    failures: { refused: 0, error500: 0, dropped: 0, hung: 0 },
    models: {},
  };
}

/** Something in flight that close() must end. */
export interface Abortable {
  abort(): void;
}

/** Shared state of one simulator instance: tunables, models, admission, failure mode, counters. */
/** Chat requests kept for `GET /_sim/chats` (tests look at the last few). */
const RECENT_CHATS = 50;

/** What a chat request carried, as `GET /_sim/chats` answers it. */
export interface SimChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  options: Record<string, unknown>;
}

export class SimRuntime {
  readonly tunables: SimTunables;
  readonly scheduler: GpuScheduler;
  /** The GPU's prompt processing, shared by the prompts evaluated at once. */
  readonly prefill: PrefillShare;
  readonly inFlight = new Set<Abortable>();
  readonly hung = new Set<ServerResponse>();
  stats: SimStats = emptyStats();
  closing = false;
  private failure: FailureSetting = { mode: 'none' };

  constructor(
    readonly models: ModelRegistry,
    options: OllamaSimOptions,
    readonly version: string,
  ) {
    this.tunables = resolveTunables(options.profile, options);
    this.scheduler = new GpuScheduler(this.tunables);
    this.prefill = new PrefillShare(() => this.tunables.promptTokensPerSecond);
  }

  /** The last RECENT_CHATS `/api/chat` requests that asked for a reply, oldest first: what reached the model. */
  readonly recentChats: SimChatRequest[] = [];

  recordChat(model: string, messages: readonly ChatMessageLike[], options: Record<string, unknown>): void {
    if (this.recentChats.length >= RECENT_CHATS) this.recentChats.shift();
    this.recentChats.push({
      model,
      // Roles and text only: images are large and already checked elsewhere.
      messages: messages.map((m) => ({ role: String(m.role), content: contentText(m.content) })),
      options: { ...options },
    });
  }

  setOptions(partial: Partial<SimTunables>): SimTunables {
    Object.assign(this.tunables, validateTunables(partial));
    this.scheduler.setLimits();
    return { ...this.tunables };
  }

  setFailure(setting: FailureSetting): FailureSetting {
    this.failure = validateFailure(setting);
    return this.currentFailure();
  }

  currentFailure(): FailureSetting {
    return { ...this.failure };
  }

  /**
   * The failure that applies to this request, if any; counts down `times`.
   * `drop-mid-stream` only applies to generations, so other routes neither see nor consume it.
   */
  takeFailure(path: string, isGeneration: boolean): FailureSetting | null {
    const failure = this.failure;
    if (failure.mode === 'none') return null;
    if (failure.mode === 'drop-mid-stream' && !isGeneration) return null;
    if (failure.paths && !failure.paths.some((prefix) => path.startsWith(prefix))) return null;
    if (failure.times !== undefined) {
      const left = failure.times - 1;
      this.failure = left > 0 ? { ...failure, times: left } : { mode: 'none' };
    }
    return failure;
  }

  snapshotStats(): SimStats {
    return {
      ...this.stats,
      requests: { ...this.stats.requests },
      failures: { ...this.stats.failures },
      queued: this.scheduler.queued,
      models: this.scheduler.modelStats(),
    };
  }

  resetStats(): void {
    const activeStreams = this.stats.activeStreams;
    this.stats = emptyStats();
    this.stats.activeStreams = activeStreams;
    this.scheduler.resetStats();
  }

  countRequest(routeKey: string): void {
    this.stats.requests[routeKey] = (this.stats.requests[routeKey] ?? 0) + 1;
  }

  /** The model, or Ollama's 404 for one it does not hold. */
  requireModel(name: string): SimModel {
    const model = this.models.find(name);
    if (!model) throw new SimHttpError(404, `model ${JSON.stringify(name)} not found, try pulling it first`);
    return model;
  }
}
