import type { Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { ChatMetrics } from '../metrics.js';

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

  async listen(onStop: (messageId: string) => void): Promise<void> {
    if (!this.redis) return;
    const subscriber = this.redis.duplicate();
    subscriber.on('error', (error: unknown) => this.logger.warn('redis subscriber error', { error }));
    subscriber.on('message', (channel: string, messageId: string) => {
      if (channel === this.channel) onStop(messageId);
    });
    this.subscriber = subscriber;
    await subscriber.subscribe(this.channel);
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
    if (!this.subscriber) return;
    await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}
