import type { BaseConfig } from './config.js';
import { Readiness } from './health.js';
import { type Logger, createLogger } from './logger.js';
import { type HttpMetrics, createMetrics } from './metrics.js';

type ShutdownHook = () => Promise<unknown> | unknown;

/** Tracks open requests and what must be closed on the way out. */
export class Lifecycle {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly hooks: Array<{ name: string; hook: ShutdownHook }> = [];
  private readonly drainController = new AbortController();

  /**
   * Aborted when the shutdown grace period runs out: long streams listen to it to end cleanly
   * (save what they have, send a final event) just before their connections are cut.
   */
  readonly drainSignal: AbortSignal = this.drainController.signal;

  get openRequests(): number {
    return this.inFlight;
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  requestEnded(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves true once no request is open, false if `timeoutMs` passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(wake);
    });
  }

  abortDrain(): void {
    this.drainController.abort(new Error('shutdown grace period over'));
  }

  /** Pools, clients, timers: closed in reverse order of registration after traffic has drained. */
  onShutdown(name: string, hook: ShutdownHook): void {
    this.hooks.push({ name, hook });
  }

  async runShutdownHooks(logger: Logger, timeoutMs = 5000): Promise<void> {
    for (const { name, hook } of [...this.hooks].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(hook),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        logger.warn('shutdown hook failed', { hook: name, error });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Everything a service is built from: config, logger, metrics, readiness and lifecycle. */
export interface ServiceKit<Config extends BaseConfig = BaseConfig> {
  name: string;
  version: string;
  config: Config;
  logger: Logger;
  metrics: HttpMetrics;
  readiness: Readiness;
  lifecycle: Lifecycle;
}

export interface ServiceKitOptions<Config extends BaseConfig> {
  name: string;
  version?: string;
  config: Config;
  logger?: Logger;
}

export function createServiceKit<Config extends BaseConfig>(
  options: ServiceKitOptions<Config>,
): ServiceKit<Config> {
  return {
    name: options.name,
    version: options.version ?? process.env.npm_package_version ?? '0.0.0',
    config: options.config,
    logger: options.logger ?? createLogger({ service: options.name, level: options.config.LOG_LEVEL }),
    metrics: createMetrics(),
    readiness: new Readiness(),
    lifecycle: new Lifecycle(),
  };
}
