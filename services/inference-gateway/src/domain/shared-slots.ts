import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Slots per (backend, model) counted across gateway replicas, so that two replicas never run more
 * than the backend's NUM_PARALLEL of one model at once. Each slot is a member of a Redis sorted set
 * scored by its expiry: a replica renews the slots it holds, and the slots of a replica that crashed
 * expire on their own.
 */
export interface SharedSlots {
  /** A slot id when fewer than `limit` are taken across replicas; undefined when the backend is full. */
  acquire(backendId: string, model: string, limit: number): Promise<string | undefined>;
  release(backendId: string, model: string, slotId: string): void;
  close(): void;
}

// Takes a slot when fewer than ARGV[2] unexpired ones are held. Redis's own clock (TIME) dates the
// expiries, so replicas with skewed clocks agree.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
  return 1
end
return 0
`;

// Pushes the expiry of slots still held (members that expired and were removed stay removed).
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
`;

interface SlotLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface RedisSlotsOptions {
  keyPrefix: string;
  /** A slot not renewed within this long frees itself (a crashed replica's slots). */
  ttlMs: number;
}

export class RedisSlots implements SharedSlots {
  /** Slots this replica holds, by key: renewed every ttl/3. */
  private readonly held = new Map<string, Set<string>>();
  private readonly timer: NodeJS.Timeout;
  private lastWarning = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisSlotsOptions,
    private readonly logger: SlotLogger,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(options.ttlMs / 3)));
    this.timer.unref();
  }

  private key(backendId: string, model: string): string {
    return `${this.options.keyPrefix}slots:${backendId}:${model}`;
  }

  async acquire(backendId: string, model: string, limit: number): Promise<string | undefined> {
    const key = this.key(backendId, model);
    const id = randomUUID();
    try {
      const taken = await this.redis.eval(ACQUIRE, 1, key, this.options.ttlMs, limit, id);
      if (taken !== 1) return undefined;
    } catch (error) {
      // Redis away: this replica counts alone (its local limit still holds) rather than refuse work.
      this.warn('redis unavailable: backend slots are counted in this replica only', error);
      return `local:${id}`;
    }
    let set = this.held.get(key);
    if (!set) this.held.set(key, (set = new Set()));
    set.add(id);
    return id;
  }

  release(backendId: string, model: string, slotId: string): void {
    if (slotId.startsWith('local:')) return;
    const key = this.key(backendId, model);
    const set = this.held.get(key);
    set?.delete(slotId);
    if (set?.size === 0) this.held.delete(key);
    this.redis
      .zrem(key, slotId)
      .catch((error: unknown) => this.warn('releasing a backend slot failed', error));
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    for (const [key, ids] of this.held) {
      if (ids.size === 0) continue;
      try {
        await this.redis.eval(RENEW, 1, key, this.options.ttlMs, ...ids);
      } catch (error) {
        this.warn('renewing backend slots failed', error);
      }
    }
  }

  private warn(message: string, error: unknown): void {
    if (Date.now() - this.lastWarning < 60_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(message, { error });
  }
}
