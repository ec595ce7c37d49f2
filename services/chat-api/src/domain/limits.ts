import { AppError, type Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ChatMetrics } from '../metrics.js';

export interface RateLimitOutcome {
  headers: Record<string, string>;
}

/**
 * What a request costs: `generation` (a reply or any /v1 call: what the models pay for, counted
 * against RATE_LIMIT_PER_MINUTE or the user's own limit) or `read` (opening a chat, the list,
 * settings: counted apart against READ_RATE_LIMIT_PER_MINUTE, so reading never uses up replies).
 */
export type RequestKind = 'generation' | 'read';

/**
 * Requests per user per minute (RATE_LIMIT_PER_MINUTE, or an admin's value for the user), counted
 * in Redis so every replica shares the budget. One limiter per distinct limit, all over the same
 * keys: the stored count is just a count, so a changed limit applies to the current minute. When
 * Redis fails, counting falls back to this process (insurance limiter) with a warning.
 */
export class RequestRateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis | RateLimiterMemory>();

  constructor(
    private readonly defaultPerMinute: number,
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
    private readonly metrics: ChatMetrics,
  ) {}

  private limiterFor(perMinute: number, kind: RequestKind): RateLimiterRedis | RateLimiterMemory {
    let limiter = this.limiters.get(`${kind}:${perMinute}`);
    if (!limiter) {
      const keyPrefix = `${this.keyPrefix}${kind === 'generation' ? 'rl' : 'rl-read'}`;
      const memory = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix });
      limiter = this.redis
        ? new RateLimiterRedis({
            storeClient: this.redis,
            points: perMinute,
            duration: 60,
            keyPrefix,
            insuranceLimiter: memory,
            // Offline Redis: straight to the insurance limiter instead of waiting for a reconnect.
            rejectIfRedisNotReady: true,
          })
        : memory;
      this.limiters.set(`${kind}:${perMinute}`, limiter);
    }
    return limiter;
  }

  /**
   * Consumes one request for `userId` against `perMinute` (default RATE_LIMIT_PER_MINUTE; 0 =
   * unlimited); throws 429 `rate_limited` when the minute's budget is spent.
   */
  async consume(
    userId: string,
    perMinute = this.defaultPerMinute,
    kind: RequestKind = 'generation',
  ): Promise<RateLimitOutcome> {
    if (perMinute <= 0) return { headers: {} };
    try {
      const res = await this.limiterFor(perMinute, kind).consume(userId, 1);
      return { headers: this.headers(res, perMinute) };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError(
          'rate_limited',
          `More than ${perMinute} ${kind === 'generation' ? 'model requests' : 'reads'} in a minute; retry in ${retryAfter} s.`,
          {
            headers: { ...this.headers(rejection, perMinute), 'Retry-After': String(retryAfter) },
            extensions: { retryAfter },
          },
        );
      }
      // Neither Redis nor the insurance limiter answered: let the request through rather than fail it.
      this.metrics.redisErrors.inc({ operation: 'rate_limit' });
      this.logger.warn('rate limiting unavailable; request let through', { error: rejection });
      return { headers: {} };
    }
  }

  private headers(res: RateLimiterRes, perMinute: number): Record<string, string> {
    return {
      'X-RateLimit-Limit': String(perMinute),
      'X-RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
      'X-RateLimit-Reset': String(Math.max(0, Math.ceil(res.msBeforeNext / 1000))),
    };
  }
}

// Atomically: drop expired slots, refuse if `limit` are held, else take one. Scores are expiry times (ms).
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export interface StreamSlot {
  /** Keeps the slot alive while a long generation runs. */
  refresh(): void;
  release(): void;
}

/**
 * MAX_CONCURRENT_STREAMS per user across replicas: a Redis sorted set of slots with expiry times,
 * so a slot held by a process that died frees itself. Without Redis (or when it fails) slots are
 * counted in this process only.
 */
export class StreamSlots {
  private readonly local = new Map<string, Set<string>>();
  private static readonly TTL_MS = 120_000;

  constructor(
    private readonly defaultLimit: number,
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
    private readonly metrics: ChatMetrics,
  ) {}

  /** Takes one of the user's `limit` slots (default MAX_CONCURRENT_STREAMS; 0 = unlimited), or 429. */
  async acquire(userId: string, slotId: string, limit = this.defaultLimit): Promise<StreamSlot> {
    if (limit <= 0) return { refresh() {}, release() {} };
    const key = `${this.keyPrefix}streams:${userId}`;
    if (this.redis) {
      try {
        const now = Date.now();
        const granted = await this.redis.eval(
          ACQUIRE_SLOT,
          1,
          key,
          String(now),
          String(limit),
          String(now + StreamSlots.TTL_MS),
          slotId,
          String(StreamSlots.TTL_MS * 2),
        );
        if (granted !== 1) throw this.tooMany(limit);
        const redis = this.redis;
        let refreshedAt = now;
        return {
          // Called per token: the expiry moves at most every quarter TTL, not one Redis call per token.
          refresh: () => {
            const at = Date.now();
            if (at - refreshedAt < StreamSlots.TTL_MS / 4) return;
            refreshedAt = at;
            redis.zadd(key, at + StreamSlots.TTL_MS, slotId).catch(() => undefined);
          },
          release: () => {
            redis.zrem(key, slotId).catch((error: unknown) => {
              this.metrics.redisErrors.inc({ operation: 'stream_slot' });
              this.logger.warn('could not release a stream slot; it expires on its own', { error });
            });
          },
        };
      } catch (error) {
        if (error instanceof AppError) throw error;
        this.metrics.redisErrors.inc({ operation: 'stream_slot' });
        this.logger.warn('stream slots unavailable in Redis; counting in this process', { error });
      }
    }
    const held = this.local.get(userId) ?? new Set<string>();
    if (held.size >= limit) throw this.tooMany(limit);
    held.add(slotId);
    this.local.set(userId, held);
    return {
      refresh() {},
      release: () => {
        held.delete(slotId);
        if (held.size === 0) this.local.delete(userId);
      },
    };
  }

  private tooMany(limit: number): AppError {
    return new AppError(
      'too_many_streams',
      `At most ${limit} replies can be generated at once; wait for one to finish.`,
      {
        headers: { 'Retry-After': '1' },
      },
    );
  }
}
