import type { Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { AuthContext } from '../context.js';
import {
  insertRevocation,
  pruneRevocations,
  revocationsAfter,
  sessionRevoked,
  findTokensValidAfter,
  setTokensValidAfter,
  type RevocationRow,
} from '../data/revocation-events.js';
import type { User } from '../data/users.js';
import type { AccessTokenClaims } from './access-tokens.js';

/** What other services receive (pub/sub) and poll: tokens of `userId` issued before `notBefore`, or one session. */
export interface RevocationView {
  id: string;
  userId: string;
  sessionId: string | null;
  /** Epoch milliseconds. */
  notBefore: number;
}

export const toRevocationView = (row: RevocationRow): RevocationView => ({
  id: row.id.toString(),
  userId: row.userId,
  sessionId: row.sessionId,
  notBefore: row.notBefore.getTime(),
});

/** Publishes stamps on Redis (when there is one); pollers catch up from the table either way. */
export class RevocationPublisher {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  publish(view: RevocationView): void {
    if (!this.redis) return;
    // Not awaited: the table is the record, pub/sub only makes it arrive sooner.
    this.redis.publish(this.channel, JSON.stringify(view)).catch((error: unknown) => {
      this.logger.warn('publishing a revocation failed; services will see it on their next poll', { error });
    });
  }
}

/**
 * Every access token of the user issued until now stops working everywhere (disable, role change,
 * password change): the stamp goes on the user row and out to chat-api and the gateway.
 */
export async function revokeUserTokens(ctx: AuthContext, userId: string): Promise<void> {
  const notBefore = nextStamp(Date.now(), await findTokensValidAfter(ctx.db, userId));
  await setTokensValidAfter(ctx.db, userId, notBefore);
  const row = await insertRevocation(ctx.db, { userId, sessionId: null, notBefore });
  ctx.revocations.publish(toRevocationView(row));
}

/**
 * `iat` counts whole seconds, so a stamp is the next whole second (tokens issued after it are
 * dated from it, see AccessTokens.issue), and a second stamp within that second moves one further:
 * a token issued between two stamps is then still older than the second one.
 */
export function nextStamp(nowMs: number, previous: Date | null): Date {
  const next = (Math.floor(nowMs / 1000) + 1) * 1000;
  return new Date(previous && previous.getTime() >= next ? previous.getTime() + 1000 : next);
}

/** The access tokens of one session (`sid`, the refresh-token family) stop working everywhere (sign-out). */
export async function revokeSessionTokens(
  ctx: AuthContext,
  userId: string,
  sessionId: string,
): Promise<void> {
  const row = await insertRevocation(ctx.db, { userId, sessionId, notBefore: new Date() });
  ctx.revocations.publish(toRevocationView(row));
}

/** Auth's own check for its routes: the user's stamp, and whether the token's session was ended. */
export async function accessTokenRevoked(
  ctx: AuthContext,
  user: User,
  claims: AccessTokenClaims,
): Promise<boolean> {
  const issuedAtMs = (claims.iat ?? 0) * 1000;
  if (user.tokensValidAfter && issuedAtMs < user.tokensValidAfter.getTime()) return true;
  return typeof claims.sid === 'string' && (await sessionRevoked(ctx.db, user.id, claims.sid));
}

/** The feed for pollers: after a known id, or (first poll) everything still within an access token's life. */
export async function revocationFeed(
  ctx: AuthContext,
  afterId: bigint | undefined,
): Promise<{ items: RevocationView[]; last: string | null }> {
  const since = new Date(Date.now() - revocationLifetimeMs(ctx));
  const rows = await revocationsAfter(ctx.db, { afterId, since, limit: 1000 });
  return {
    items: rows.map(toRevocationView),
    last: rows.at(-1)?.id.toString() ?? afterId?.toString() ?? null,
  };
}

/** Past this age a stamp cannot matter: every token it could refuse has expired. */
const revocationLifetimeMs = (ctx: AuthContext) =>
  (ctx.config.ACCESS_TOKEN_TTL_SECONDS + ctx.config.SIGNING_KEY_LEEWAY_SECONDS) * 1000;

export async function pruneOldRevocations(ctx: AuthContext): Promise<number> {
  return pruneRevocations(ctx.db, new Date(Date.now() - revocationLifetimeMs(ctx) * 2));
}
