import type { Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { ChatMetrics } from '../metrics.js';
import type { Generation, GenerationResult } from './generations.js';

/** One event of a reply: its position (the SSE id), its SSE name and its JSON data. */
export interface ReplyEventEntry {
  seq: number;
  event: 'token' | 'done' | 'error';
  data: string;
}

export interface ReplyEventLimits {
  /** How long a reply's events live after its last one (REPLY_EVENTS_TTL_SECONDS). */
  ttlSeconds: number;
  /** Most events kept per reply (REPLY_EVENTS_MAX); older ones are trimmed. */
  maxEvents: number;
}

/** A reader that asked for events older than the oldest one kept. */
export const EVENTS_TRIMMED = 'trimmed' as const;

/** How long one blocking read of a Redis stream waits before checking the stream is still there. */
const REDIS_BLOCK_MS = 10_000;
/**
 * Events recorded within this long of each other go to Redis in one pipeline (every reply's): at
 * many replies at once that is one write per interval instead of one per event loop turn that saw
 * a token. A reader on another replica sees an event at most this much later.
 */
export const REDIS_FLUSH_MS = 5;
/** Events read from Redis per round trip. */
const REDIS_READ_COUNT = 1000;

const isFinal = (event: string) => event === 'done' || event === 'error';

/** The final SSE event of a reply (`done`, or `error` with its code and message). */
export function finalReplyEvent(result: GenerationResult): { event: 'done' | 'error'; data: object } {
  const summary = {
    messageId: result.messageId,
    status: result.status,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    durationMs: result.durationMs,
    tokensPerSecond: result.tokensPerSecond,
    finalSave: result.finalSave,
  };
  if (result.status !== 'error') return { event: 'done', data: summary };
  return {
    event: 'error',
    data: {
      ...summary,
      code: result.error?.code ?? 'internal',
      message: result.error?.message ?? '',
    },
  };
}

interface LocalLog {
  entries: ReplyEventEntry[];
  /** seq of entries[0]. */
  firstSeq: number;
  ended: boolean;
  waiters: Set<() => void>;
  expiry: NodeJS.Timeout | undefined;
}

/**
 * Keeps each web reply's events briefly so a client that lost its stream (reload, second tab,
 * dropped connection, another replica) resumes where it was: in this process always (the replica
 * generating answers from memory), and in a Redis Stream per reply when Redis is configured (any
 * replica reads it). Both are bounded: REPLY_EVENTS_MAX events per reply, REPLY_EVENTS_TTL_SECONDS
 * after the last one.
 */
export class ReplyEvents {
  private readonly local = new Map<string, LocalLog>();
  /** Events recorded but not yet sent to Redis (sent together every REDIS_FLUSH_MS). */
  private outbox: Array<{ messageId: string; seq: number; event: ReplyEventEntry['event']; data: string }> =
    [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly limits: ReplyEventLimits,
    private readonly logger: Logger,
    private readonly metrics: ChatMetrics,
  ) {}

  private key(messageId: string): string {
    return `${this.keyPrefix}reply:${messageId}`;
  }

  /** Records a generation's tokens and its end, numbered as Generation.emitted numbers them. */
  record(generation: Generation): void {
    const messageId = generation.request.messageId;
    const log: LocalLog = { entries: [], firstSeq: 1, ended: false, waiters: new Set(), expiry: undefined };
    this.local.set(messageId, log);
    const onToken = (text: string) => this.append(messageId, log, 'token', { text }, generation.emitted);
    generation.on('token', onToken);
    generation.once('end', (result) => {
      generation.off('token', onToken);
      const final = finalReplyEvent(result);
      this.append(messageId, log, final.event, final.data, generation.emitted + 1);
      log.ended = true;
      this.wake(log);
      log.expiry = setTimeout(() => this.local.delete(messageId), this.limits.ttlSeconds * 1000);
      log.expiry.unref();
    });
  }

  private append(
    messageId: string,
    log: LocalLog,
    event: ReplyEventEntry['event'],
    data: object,
    seq: number,
  ): void {
    const entry = { seq, event, data: JSON.stringify(data) };
    log.entries.push(entry);
    if (log.entries.length > this.limits.maxEvents) {
      log.entries.shift();
      log.firstSeq += 1;
    }
    this.wake(log);
    if (!this.redis) return;
    this.outbox.push({ messageId, seq, event, data: entry.data });
    this.flushTimer ??= setTimeout(() => this.flush(), REDIS_FLUSH_MS);
  }

  /**
   * Sends the events recorded since the last flush to Redis in one pipeline: every reply's, in the
   * order they were recorded (one connection keeps the order), and one PEXPIRE per reply. A fast
   * model emits many tokens per socket read, and many replies run at once: one round trip per
   * REDIS_FLUSH_MS instead of one per token. Other replicas see an event up to that much later.
   */
  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.outbox;
    if (!this.redis || batch.length === 0) return;
    this.outbox = [];
    const pipeline = this.redis.pipeline();
    const keys = new Set<string>();
    for (const { messageId, seq, event, data } of batch) {
      const key = this.key(messageId);
      keys.add(key);
      pipeline.xadd(key, 'MAXLEN', '~', this.limits.maxEvents, `0-${seq}`, 'e', event, 'd', data);
    }
    for (const key of keys) pipeline.pexpire(key, this.limits.ttlSeconds * 1000);
    pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error);
        if (failed) throw failed[0];
      })
      .catch((error: unknown) => {
        this.metrics.redisErrors.inc({ operation: 'reply_events' });
        this.logger.warn('could not keep reply events in Redis; only this replica can resume them', {
          error,
          messageIds: [...new Set(batch.map((e) => e.messageId))].slice(0, 20),
        });
      });
  }

  private wake(log: LocalLog): void {
    const waiters = [...log.waiters];
    log.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * The reply's events after `after`, then each new one until its final event: from this process
   * if it holds them, else from Redis. undefined when neither has the reply (finished long ago, or
   * generated by a replica without Redis); EVENTS_TRIMMED when events after `after` were trimmed.
   */
  async open(
    messageId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<ReplyEventEntry> | typeof EVENTS_TRIMMED | undefined> {
    const log = this.local.get(messageId);
    if (log) {
      if (log.firstSeq > after + 1) return EVENTS_TRIMMED;
      return readLocal(log, after, signal);
    }
    if (!this.redis) return undefined;
    const key = this.key(messageId);
    let first: [string, string[]][];
    try {
      first = await this.redis.xrange(key, '-', '+', 'COUNT', 1);
    } catch (error) {
      this.metrics.redisErrors.inc({ operation: 'reply_events' });
      this.logger.warn('could not read a reply’s events from Redis', { error, messageId });
      return undefined;
    }
    const oldest = first[0];
    if (!oldest) return undefined;
    if (seqOf(oldest[0]) > after + 1) return EVENTS_TRIMMED;
    return readRedis(this.redis, key, after, signal);
  }

  close(): void {
    clearTimeout(this.flushTimer);
    this.flush();
    for (const log of this.local.values()) {
      clearTimeout(log.expiry);
      this.wake(log);
    }
    this.local.clear();
  }
}

const seqOf = (id: string) => Number(id.split('-')[1] ?? 0);

async function* readLocal(
  log: LocalLog,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<ReplyEventEntry> {
  let next = after + 1;
  for (;;) {
    // Trimmed while the reader waited: it goes on from the oldest kept (the gap is the limit's cost).
    for (let i = Math.max(0, next - log.firstSeq); i < log.entries.length; i++) {
      const entry = log.entries[i]!;
      yield entry;
      next = entry.seq + 1;
      if (isFinal(entry.event)) return;
    }
    if (log.ended || signal.aborted) return;
    // One abort listener per wait, removed when the wait ends: a reader following a long reply
    // used to leave one on the request's signal for every event it waited for.
    await new Promise<void>((resolve) => {
      const wake = () => {
        log.waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      log.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

async function* readRedis(
  redis: Redis,
  key: string,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<ReplyEventEntry> {
  // Blocking reads need a connection of their own; it lives as long as this reader.
  const reader = redis.duplicate({ enableOfflineQueue: true });
  reader.on('error', () => undefined);
  const onAbort = () => reader.disconnect();
  signal.addEventListener('abort', onAbort, { once: true });
  let last = `0-${after}`;
  try {
    while (!signal.aborted) {
      const answer = await reader.xread(
        'COUNT',
        REDIS_READ_COUNT,
        'BLOCK',
        REDIS_BLOCK_MS,
        'STREAMS',
        key,
        last,
      );
      const entries = answer?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        // Expired (the reply ended more than the TTL ago, or its replica died): nothing more will come.
        if ((await reader.exists(key)) === 0) return;
        continue;
      }
      for (const [id, fields] of entries) {
        last = id;
        // Written as `e <event> d <data>`.
        const event = fields[1] as ReplyEventEntry['event'];
        const data = fields[3] ?? '{}';
        yield { seq: seqOf(id), event, data };
        if (isFinal(event)) return;
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.disconnect();
  }
}
