import { AppError } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { sha256Hex } from './crypto.js';

export interface LoginThrottleOptions {
  redis: Redis | undefined;
  keyPrefix: string;
  maxFailuresPerAccount: number;
  accountWindowSeconds: number;
  maxFailuresPerIp: number;
  ipWindowSeconds: number;
}

export function limiter(
  redis: Redis | undefined,
  keyPrefix: string,
  points: number,
  duration: number,
): RateLimiterAbstract {
  if (!redis) return new RateLimiterMemory({ keyPrefix, points, duration });
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    // If Redis is unreachable, count in-process rather than refusing every sign-in.
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
}

/**
 * Counts failed sign-ins per account and per client IP. Once either count reaches its limit,
 * further attempts (even with the right password) get 429 until the window has passed.
 */
export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;

  constructor(private readonly options: LoginThrottleOptions) {
    this.perAccount = limiter(
      options.redis,
      `${options.keyPrefix}login-fail:account`,
      options.maxFailuresPerAccount,
      options.accountWindowSeconds,
    );
    this.perIp = limiter(
      options.redis,
      `${options.keyPrefix}login-fail:ip`,
      options.maxFailuresPerIp,
      options.ipWindowSeconds,
    );
  }

  /** Throws 429 with Retry-After when this account or IP has used up its failures. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const [account, byIp] = await Promise.all([this.perAccount.get(accountKey(email)), this.perIp.get(ip)]);
    const blocked = [
      { res: account, max: this.options.maxFailuresPerAccount },
      { res: byIp, max: this.options.maxFailuresPerIp },
    ].filter(({ res, max }) => res !== null && res.consumedPoints >= max);
    if (blocked.length === 0) return;
    const waitMs = Math.max(...blocked.map(({ res }) => res?.msBeforeNext ?? 1000));
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    throw new AppError('rate_limited', 'Too many failed sign-in attempts; try again later.', {
      headers: { 'Retry-After': String(retryAfter) },
      extensions: { retryAfter },
    });
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await Promise.all([consumeQuietly(this.perAccount, accountKey(email)), consumeQuietly(this.perIp, ip)]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.perAccount.delete(accountKey(email));
  }
}

// Hashed so Redis holds no email addresses.
const accountKey = (email: string) => sha256Hex(email.trim().toLowerCase());

async function consumeQuietly(rateLimiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await rateLimiter.consume(key);
  } catch (error) {
    // Over the limit is expected here (assertAllowed decides); anything else is a real failure.
    if (!(error instanceof RateLimiterRes)) throw error;
  }
}
