import { randomUUID } from 'node:crypto';
import type { Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { ChatMetrics } from '../metrics.js';

/**
 * Takes `ARGV[3]` tokens (at most what is left) of a budget of `ARGV[2]` with `ARGV[1]` already used
 * today, counting the reservations still held (members `id:tokens`, scored by expiry): returns the
 * tokens granted, 0 when nothing is left. Atomic: parallel admissions cannot all see the same rest.
 */
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
local held = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  held = held + tonumber(string.match(member, ':(%d+)$'))
end
local left = tonumber(ARGV[2]) - tonumber(ARGV[1]) - held
if left <= 0 then return 0 end
local granted = math.min(left, tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], ARGV[6], ARGV[4] .. ':' .. granted)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return granted`;

/** A reservation on a daily budget, released once the request's real usage is recorded. */
export interface Reservation {
  /** Tokens granted: the request generates at most this many (its `num_predict`). */
  readonly tokens: number;
  /** Gives the reservation back (the recorded usage counts from then on). Idempotent. */
  settle(): void;
}

/**
 * Daily-budget reservations shared by every replica (Redis; in this process when Redis is away):
 * a request reserves its maximum (max_tokens, else BUDGET_RESERVATION_TOKENS) out of what is left,
 * generates at most that, and settles to its real usage at the end. Parallel requests cannot all
 * spend the same rest; the overshoot is bounded by one reservation's prompt tokens.
 */
export class BudgetReservations {
  private readonly local = new Map<string, Map<string, { tokens: number; expiresAt: number }>>();
  static readonly TTL_MS = 15 * 60_000;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
    private readonly metrics: ChatMetrics,
  ) {}

  /** Reserves up to `wanted` of `budget` (with `used` spent today) for `scope`; 0 tokens when none is left. */
  async reserve(scope: string, budget: number, used: number, wanted: number): Promise<Reservation> {
    const id = randomUUID();
    const key = `${this.keyPrefix}budget:${scope}`;
    const now = Date.now();
    if (this.redis) {
      try {
        const granted = Number(
          await this.redis.eval(
            RESERVE,
            1,
            key,
            String(used),
            String(budget),
            String(wanted),
            id,
            String(now),
            String(now + BudgetReservations.TTL_MS),
            String(BudgetReservations.TTL_MS * 2),
          ),
        );
        const redis = this.redis;
        let settled = false;
        return {
          tokens: granted,
          settle: () => {
            if (settled || granted === 0) return;
            settled = true;
            redis.zrem(key, `${id}:${granted}`).catch(() => undefined);
          },
        };
      } catch (error) {
        this.metrics.redisErrors.inc({ operation: 'budget' });
        this.logger.warn('budget reservations unavailable in Redis; counting in this process', { error });
      }
    }
    const held = this.local.get(key) ?? new Map<string, { tokens: number; expiresAt: number }>();
    let reserved = 0;
    for (const [other, entry] of held) {
      if (entry.expiresAt <= now) held.delete(other);
      else reserved += entry.tokens;
    }
    const granted = Math.max(0, Math.min(wanted, budget - used - reserved));
    if (granted > 0) {
      held.set(id, { tokens: granted, expiresAt: now + BudgetReservations.TTL_MS });
      this.local.set(key, held);
    }
    return {
      tokens: granted,
      settle: () => {
        held.delete(id);
        if (held.size === 0 && this.local.get(key) === held) this.local.delete(key);
      },
    };
  }
}
