import { AppError } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { limiter } from './login-throttle.js';

export interface RegistrationThrottleOptions {
  redis: Redis | undefined;
  keyPrefix: string;
  maxPerIp: number;
  ipWindowSeconds: number;
  maxGlobal: number;
  globalWindowSeconds: number;
}

/**
 * Registrations per client IP and in total: each costs a scrypt and a row, so a flood from one
 * address (or many) is refused with 429 before any of that is spent.
 */
export class RegistrationThrottle {
  private readonly perIp: RateLimiterAbstract;
  private readonly global: RateLimiterAbstract;

  constructor(options: RegistrationThrottleOptions) {
    this.perIp = limiter(
      options.redis,
      `${options.keyPrefix}register:ip`,
      options.maxPerIp,
      options.ipWindowSeconds,
    );
    this.global = limiter(
      options.redis,
      `${options.keyPrefix}register:all`,
      options.maxGlobal,
      options.globalWindowSeconds,
    );
  }

  /** Counts this attempt; throws 429 with Retry-After once the IP's or everyone's allowance is spent. */
  async consume(ip: string): Promise<void> {
    try {
      await this.perIp.consume(ip);
      await this.global.consume('all');
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new AppError('rate_limited', 'Too many registrations; try again later.', {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { retryAfter },
      });
    }
  }
}
