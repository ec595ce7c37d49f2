import type { Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { ChatMetrics } from '../metrics.js';

/** How long start-up waits for the subscription before going on without it. */
const SUBSCRIBE_WAIT_MS = 3000;

/**
 * Carries "stop this reply" to whichever replica runs its generation. Every replica subscribes to
 * one channel; the one holding the message aborts it. Without Redis, stop works within this process.
 */
export class StopBus {
  private subscriber: Redis | undefined;
  private readonly channel: string;

  constructor(
    private readonly redis: Redis | undefined,
    keyPrefix: string,
    private readonly logger: Logger,
    private readonly metrics: ChatMetrics,
  ) {
    this.channel = `${keyPrefix}stop`;
  }

  /**
   * Subscribes to the stop channel. Never fails start-up: with Redis down, stop works within this
   * replica, and the subscription is made once Redis is reachable (ioredis renews it after reconnects).
   */
  async listen(onStop: (messageId: string) => void): Promise<void> {
    if (!this.redis) return;
    // A subscriber must queue its SUBSCRIBE until connected, whatever the main client does.
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', (error: unknown) => this.logger.warn('redis subscriber error', { error }));
    subscriber.on('message', (channel: string, messageId: string) => {
      if (channel === this.channel) onStop(messageId);
    });
    this.subscriber = subscriber;
    let subscribed = false;
    const subscribe = () =>
      subscriber.subscribe(this.channel).then(
        () => {
          if (!subscribed) this.logger.info('listening for stop requests', { channel: this.channel });
          subscribed = true;
        },
        (error: unknown) => {
          this.metrics.redisErrors.inc({ operation: 'stop_subscribe' });
          this.logger.warn('cannot subscribe to the stop channel yet; stop works within this replica', {
            error,
          });
        },
      );
    subscriber.on('ready', () => {
      if (!subscribed) void subscribe();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscribe(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Asks other replicas to stop `messageIds`; false when Redis could not be reached. */
  async publish(messageIds: string[]): Promise<boolean> {
    if (!this.redis || messageIds.length === 0) return true;
    try {
      for (const id of messageIds) await this.redis.publish(this.channel, id);
      return true;
    } catch (error) {
      this.metrics.redisErrors.inc({ operation: 'stop_publish' });
      this.logger.warn('could not publish stop; only this replica was asked', { error });
      return false;
    }
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber) return;
    if (subscriber.status !== 'ready') return subscriber.disconnect();
    await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
