import { EventEmitter } from 'node:events';
import { type Logger, toAppError } from '@corral/service-kit';
import type { Database, MessageStatus } from '../data/db.js';
import { appendReplyText, type ReplyUsage, touchReply } from '../data/replies.js';
import type { ChatMetrics } from '../metrics.js';
import type { ChatTurn, GatewayClient } from './gateway.js';
import type { FinalSaves } from './final-saves.js';
import type { StreamSlot } from './limits.js';
import type { UsageLedger } from './usage-ledger.js';

/** How a generation ended, as saved on the assistant message and sent in the final SSE event. */
export interface GenerationResult {
  messageId: string;
  status: Exclude<MessageStatus, 'streaming'>;
  content: string;
  /** A thinking model's reasoning streamed before or between the tokens; null when there was none. */
  reasoning: string | null;
  promptTokens: number | null;
  completionTokens: number;
  durationMs: number;
  /** Completion tokens per second of generation, when the model reported its timing. */
  tokensPerSecond: number | null;
  error: { code: string; message: string } | null;
  /** `saved`, or `pending`: the database was away and the final save is being retried. */
  finalSave: 'saved' | 'pending';
}

export interface GenerationRequest {
  messageId: string;
  conversationId: string;
  userId: string;
  apiKeyId: string | null;
  model: string;
  messages: ChatTurn[];
  /** Under a daily budget, the most completion tokens it may generate (its reservation); else null. */
  maxTokens: number | null;
  /** Ollama options of the conversation's assistant (temperature, top_p, num_predict, seed). */
  options?: Record<string, unknown>;
  slot: StreamSlot;
}

type StopReason = 'stopped' | 'interrupted';

/** One reply being generated; emits `token` (text) and then `end` (GenerationResult). */
export class Generation extends EventEmitter<{
  token: [string];
  thinking: [string];
  end: [GenerationResult];
}> {
  readonly controller = new AbortController();
  content = '';
  /** The reasoning streamed so far (Ollama's `message.thinking`), saved with the reply, never sent back. */
  reasoning = '';
  /** Tokens emitted so far: a token's position in the reply (its SSE id); the final event is emitted + 1. */
  emitted = 0;
  result: GenerationResult | undefined;
  readonly finished: Promise<GenerationResult>;
  private resolveFinished!: (result: GenerationResult) => void;

  constructor(readonly request: GenerationRequest) {
    super();
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  stop(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  settle(result: GenerationResult): void {
    this.result = result;
    this.emit('end', result);
    this.resolveFinished(result);
  }
}

export interface GenerationsOptions {
  db: Database;
  gateway: GatewayClient;
  logger: Logger;
  metrics: ChatMetrics;
  /** Where a reply's tokens go when its final save fails (normally that save records them). */
  usage: UsageLedger;
  /** Stores each reply's final state, retrying while the database is away. */
  finalSaves: FinalSaves;
  flushIntervalMs: number;
  flushTokens: number;
  /** Untouched streaming rows older than this are swept; heartbeats keep live ones fresh. */
  staleSeconds: number;
}

/**
 * Runs replies independently of the HTTP request that asked for them: a client that goes away
 * does not stop generation; only `stop()` (the stop route or the Redis stop channel) or shutdown does.
 * The growing text is saved in batches, and the final state (status, counts, whole text) at the end.
 */
export class Generations {
  private readonly active = new Map<string, Generation>();

  constructor(private readonly options: GenerationsOptions) {}

  get size(): number {
    return this.active.size;
  }

  /** Replies running here, and finished ones whose final save is pending here (not orphans). */
  activeIds(): string[] {
    return [...this.active.keys(), ...this.options.finalSaves.pendingIds()];
  }

  get(messageId: string): Generation | undefined {
    return this.active.get(messageId);
  }

  start(request: GenerationRequest): Generation {
    const generation = new Generation(request);
    this.active.set(request.messageId, generation);
    this.options.metrics.activeGenerations.inc();
    void this.run(generation).finally(() => {
      this.active.delete(request.messageId);
      this.options.metrics.activeGenerations.dec();
      request.slot.release();
    });
    return generation;
  }

  /** Stops a reply running in this process; false if it is not here. */
  stop(messageId: string, reason: StopReason = 'stopped'): boolean {
    const generation = this.active.get(messageId);
    if (!generation) return false;
    generation.stop(reason);
    return true;
  }

  /** On shutdown: end every reply still running, saved as `interrupted`, and wait for the saves. */
  async interruptAll(): Promise<void> {
    const running = [...this.active.values()];
    for (const generation of running) generation.stop('interrupted');
    await Promise.all(running.map((generation) => generation.finished));
  }

  private async run(generation: Generation): Promise<void> {
    const { db, gateway, logger, metrics, usage } = this.options;
    const { request } = generation;
    const started = performance.now();
    const writer = new ReplyWriter(db, request.messageId, this.options, logger);
    let tokenCount = 0;
    let result: GenerationResult;
    try {
      const done = await gateway.chat(
        {
          model: request.model,
          messages: request.messages,
          ...generationOptions(request),
        },
        (text) => {
          if (tokenCount === 0) {
            metrics.timeToFirstToken.observe(
              { model: metrics.models.label(request.model), api: 'ui' },
              (performance.now() - started) / 1000,
            );
          }
          tokenCount += 1;
          generation.content += text;
          writer.append(text);
          request.slot.refresh();
          generation.emitted += 1;
          generation.emit('token', text);
        },
        generation.controller.signal,
        {
          // The reasoning is shown while it streams, apart from the answer, and saved with it at the end.
          thinking: (text) => {
            request.slot.refresh();
            generation.reasoning += text;
            generation.emit('thinking', text);
          },
        },
        request.conversationId,
      );
      const completionTokens = done.completionTokens ?? tokenCount;
      result = {
        messageId: request.messageId,
        status: 'complete',
        content: generation.content,
        reasoning: generation.reasoning || null,
        promptTokens: done.promptTokens ?? null,
        completionTokens,
        durationMs: Math.round(performance.now() - started),
        tokensPerSecond:
          done.evalDurationNs && done.evalDurationNs > 0
            ? Math.round((completionTokens / (done.evalDurationNs / 1e9)) * 10) / 10
            : null,
        error: null,
        finalSave: 'saved',
      };
    } catch (error) {
      const reason = generation.controller.signal.reason as unknown;
      const aborted = generation.controller.signal.aborted;
      const appError = aborted ? undefined : toAppError(error);
      if (appError?.code === 'internal')
        logger.error('generation failed', { error, messageId: request.messageId });
      result = {
        messageId: request.messageId,
        status: aborted ? (reason === 'interrupted' ? 'interrupted' : 'stopped') : 'error',
        content: generation.content,
        reasoning: generation.reasoning || null,
        promptTokens: null,
        completionTokens: tokenCount,
        durationMs: Math.round(performance.now() - started),
        tokensPerSecond: null,
        error: appError ? { code: appError.code, message: appError.message } : null,
        finalSave: 'saved',
      };
    }
    const owner = { userId: request.userId, apiKeyId: request.apiKeyId, model: request.model };
    try {
      if (!(await writer.finish(result, owner))) result.finalSave = 'pending';
    } catch (error) {
      logger.error('could not save the final state of a reply', { error, messageId: request.messageId });
      // Nothing of that statement was stored: the tokens still count, through the ledger.
      usage.record({
        ...owner,
        promptTokens: result.promptTokens ?? 0,
        completionTokens: result.completionTokens,
      });
    }
    metrics.messages.inc({ status: result.status });
    metrics.tokens.inc(
      { direction: 'in', model: metrics.models.label(request.model) },
      result.promptTokens ?? 0,
    );
    metrics.tokens.inc(
      { direction: 'out', model: metrics.models.label(request.model) },
      result.completionTokens,
    );
    generation.settle(result);
  }
}

/**
 * Saves a growing reply: appends new text at most every `flushIntervalMs` or `flushTokens` tokens
 * (never per token), touches the row as a heartbeat while the model is silent, and writes the
 * whole text with the final status at the end (so a lost batch never loses text).
 */
class ReplyWriter {
  private pending = '';
  private pendingTokens = 0;
  private seq = 0;
  private finished = false;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly messageId: string,
    private readonly options: Pick<
      GenerationsOptions,
      'flushIntervalMs' | 'flushTokens' | 'staleSeconds' | 'finalSaves'
    >,
    private readonly logger: Logger,
  ) {
    const beatMs = Math.max(1000, (options.staleSeconds * 1000) / 3);
    this.heartbeat = setInterval(() => this.enqueue(() => touchReply(db, messageId)), beatMs);
    this.heartbeat.unref();
  }

  append(text: string): void {
    this.pending += text;
    this.pendingTokens += 1;
    if (this.pendingTokens >= this.options.flushTokens) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending === '') return;
    const delta = this.pending;
    this.pending = '';
    this.pendingTokens = 0;
    const seq = this.seq++;
    this.enqueue(() => appendReplyText(this.db, this.messageId, seq, delta));
  }

  private enqueue(write: () => Promise<void>): void {
    // Once finished, queued batches are dropped: the final save writes the whole text anyway, so
    // Stop never waits behind them (only behind the one write in flight).
    this.chain = this.chain
      .then(() => (this.finished ? undefined : write()))
      .catch((error: unknown) => {
        this.logger.warn('could not save a streaming batch; the final save writes the whole text', { error });
      });
  }

  /** Stores the final state; false when the database is away and the save is pending (retried). */
  async finish(result: GenerationResult, usage: ReplyUsage): Promise<boolean> {
    clearTimeout(this.flushTimer);
    clearInterval(this.heartbeat);
    this.pending = '';
    this.finished = true;
    await this.chain;
    return this.options.finalSaves.save({
      messageId: this.messageId,
      outcome: {
        status: result.status,
        content: result.content,
        reasoning: result.reasoning,
        error: result.error?.message ?? null,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        durationMs: result.durationMs,
      },
      usage,
    });
  }
}

/** The assistant's options, its `num_predict` capped by the budget reservation's. */
function generationOptions(request: GenerationRequest): { options?: Record<string, unknown> } {
  const options: Record<string, unknown> = { ...request.options };
  if (request.maxTokens !== null) {
    const own = typeof options.num_predict === 'number' ? options.num_predict : Infinity;
    options.num_predict = Math.min(own, request.maxTokens);
  }
  return Object.keys(options).length === 0 ? {} : { options };
}
