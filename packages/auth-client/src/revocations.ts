import axios from 'axios';
import type { AuthLogger } from './types.js';

/** A revocation stamp as auth publishes and serves it: `userId`'s tokens before `notBefore` (ms), or one session. */
export interface RevocationStamp {
  id: string;
  userId: string;
  sessionId: string | null;
  notBefore: number;
}

/** The part of an ioredis client used here: a dedicated connection is made with `duplicate()`. */
export interface RevocationSubscriberSource {
  duplicate(): {
    subscribe(channel: string): Promise<unknown>;
    on(event: 'message', listener: (channel: string, message: string) => void): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
    quit(): Promise<unknown>;
  };
}

export interface RevocationListOptions {
  /** `{AUTH_URL}/api/auth/revocations` */
  feedUrl: string;
  serviceToken: string;
  /** How often the feed is polled (the fallback when pub/sub is absent or misses an event). */
  pollMs: number;
  timeoutMs: number;
  /** Redis to subscribe with (auth publishes each stamp at once); without it, polling alone. */
  redis?: RevocationSubscriberSource | undefined;
  channel: string;
  /** Stamps older than this are forgotten: every token they could refuse has expired. */
  retentionMs: number;
  logger: AuthLogger;
}

const isStamp = (value: unknown): value is RevocationStamp => {
  const v = value as Partial<RevocationStamp> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.userId === 'string' &&
    (v.sessionId === null || typeof v.sessionId === 'string') &&
    typeof v.notBefore === 'number'
  );
};

/**
 * The revocation stamps auth issues on sign-out, disable, role and password changes, kept in
 * memory so every request is checked without a call: over Redis pub/sub as they happen, and by
 * polling auth's feed (catching up on anything pub/sub missed, or alone without Redis).
 */
export class RevocationList {
  private readonly users = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private lastId: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: ReturnType<RevocationSubscriberSource['duplicate']> | undefined;
  private polling: Promise<void> | undefined;
  private readonly http;

  constructor(private readonly options: RevocationListOptions) {
    this.http = axios.create({
      timeout: options.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      headers: { Authorization: `Bearer ${options.serviceToken}`, Accept: 'application/json' },
    });
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    if (this.options.redis) this.subscribe(this.options.redis);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.subscriber?.quit().catch(() => undefined);
    this.subscriber = undefined;
  }

  /** The latest stamp for a user (ms), if any: tokens issued before it are refused. */
  userNotBefore(userId: string): number | undefined {
    return this.users.get(userId);
  }

  /** Whether an access token (issued at `issuedAtSec`, in session `sessionId`) has been revoked. */
  isTokenRevoked(userId: string, issuedAtSec: number, sessionId: string | undefined): boolean {
    const notBefore = this.users.get(userId);
    if (notBefore !== undefined && issuedAtSec * 1000 < notBefore) return true;
    return sessionId !== undefined && this.sessions.has(sessionId);
  }

  apply(stamp: RevocationStamp): void {
    if (stamp.sessionId !== null) {
      this.sessions.set(stamp.sessionId, stamp.notBefore);
      return;
    }
    const known = this.users.get(stamp.userId);
    if (known === undefined || stamp.notBefore > known) this.users.set(stamp.userId, stamp.notBefore);
  }

  /** One round of polling (also what tests await); overlapping calls share one request. */
  poll(): Promise<void> {
    this.polling ??= this.pollFeed().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollFeed(): Promise<void> {
    try {
      for (let page = 0; page < 20; page += 1) {
        const query = this.lastId === undefined ? '' : `?after=${encodeURIComponent(this.lastId)}`;
        const res = await this.http.get<unknown>(`${this.options.feedUrl}${query}`);
        const body = res.data as { items?: unknown; last?: unknown } | undefined;
        if (res.status !== 200 || !Array.isArray(body?.items)) {
          this.options.logger.warn('revocation feed answered unexpectedly', { status: res.status });
          return;
        }
        const items = body.items.filter(isStamp);
        for (const stamp of items) this.apply(stamp);
        if (typeof body.last === 'string') this.lastId = body.last;
        if (items.length < 1000) break;
      }
      this.prune();
    } catch (error) {
      this.options.logger.warn('revocation feed unreachable; checking with the stamps known so far', {
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private subscribe(redis: RevocationSubscriberSource): void {
    const subscriber = redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (error) =>
      this.options.logger.warn('revocation subscription error; polling continues', {
        message: error.message,
      }),
    );
    subscriber.on('message', (channel, message) => {
      if (channel !== this.options.channel) return;
      try {
        const stamp: unknown = JSON.parse(message);
        if (isStamp(stamp)) this.apply(stamp);
      } catch {
        this.options.logger.warn('ignored a malformed revocation message', {});
      }
    });
    subscriber.subscribe(this.options.channel).catch((error: unknown) =>
      this.options.logger.warn('cannot subscribe to revocations; polling only', {
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  private prune(): void {
    const before = Date.now() - this.options.retentionMs;
    for (const map of [this.users, this.sessions]) {
      for (const [key, at] of map) if (at < before) map.delete(key);
    }
  }
}
