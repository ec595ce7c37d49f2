import type { ApiKey as ApiKeyContract, IntrospectionResult } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import { type ApiKey, findApiKeyWithOwner, insertApiKey, touchApiKeyLastUsed } from '../data/api-keys.js';
import type { User } from '../data/users.js';
import { keyAncestors, keyWithDescendants, revokeKeys } from '../data/key-tree.js';
import { randomToken, sha256Hex } from './crypto.js';
import { API_KEY_SCOPES, type ApiKeyScope, type KeyGrant } from './key-scopes.js';

/** The scopes a stored key carries (the column holds only what key-scopes granted; anything else is dropped). */
const storedScopes = (scopes: readonly string[]): ApiKeyScope[] =>
  scopes.filter((scope): scope is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(scope));

export const API_KEY_PREFIX = 'sk-corral-';
/** Shown in lists so people can tell keys apart; 6 random characters reveal nothing useful. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

/** auth's view of a key: the contract its callers (the web app, tests) read. */
export type ApiKeyView = ApiKeyContract;

export const toApiKeyView = (key: ApiKey): ApiKeyView => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  userId: key.userId,
  models: (key.models as string[] | null) ?? null,
  expiresAt: key.expiresAt?.toISOString() ?? null,
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  createdAt: key.createdAt.toISOString(),
  revokedAt: key.revokedAt?.toISOString() ?? null,
  createdById: key.createdById,
  scopes: storedScopes(key.scopes),
  parentKeyId: key.parentKeyId,
});

export const generateApiKey = (): string => `${API_KEY_PREFIX}${randomToken(32)}`;

export interface NewApiKey extends KeyGrant {
  name: string;
  /** The key this one is created with (null: in a session); revoking it revokes this one. */
  parentKeyId?: string | null | undefined;
}

/** Creates a key for `userId` (its grant already decided, see key-scopes); the plaintext is returned here and never again. */
export async function createApiKey(
  ctx: AuthContext,
  userId: string,
  input: NewApiKey,
  actor: { id: string | null; ip?: string | undefined },
  plaintext: string = generateApiKey(),
): Promise<{ key: string; apiKey: ApiKeyView }> {
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new AppError('validation_failed', 'body.expiresAt: must be in the future');
  }
  const row = await insertApiKey(ctx.db, {
    userId,
    name: input.name,
    prefix: plaintext.slice(0, DISPLAY_PREFIX_LENGTH),
    keyHash: sha256Hex(plaintext),
    models: input.models ?? null,
    expiresAt: input.expiresAt ?? null,
    createdById: actor.id,
    scopes: input.scopes,
    parentKeyId: input.parentKeyId ?? null,
  });
  ctx.metrics.tokensIssued.inc({ kind: 'api_key' });
  await ctx.audit.record({
    action: 'api_key.created',
    actorId: actor.id,
    targetType: 'api_key',
    targetId: row.id,
    ip: actor.ip,
    details: {
      ownerId: userId,
      name: input.name,
      scopes: input.scopes,
      parentKeyId: input.parentKeyId ?? null,
    },
  });
  return { key: plaintext, apiKey: toApiKeyView(row) };
}

/** Revokes the key and every key created from it (they were never wider, and die with it). */
export async function revokeApiKey(
  ctx: AuthContext,
  key: ApiKey,
  actor: { id: string | null; ip?: string | undefined },
): Promise<void> {
  const ids = await keyWithDescendants(ctx.db, key.id);
  const revoked = await revokeKeys(ctx.db, ids);
  await ctx.audit.record({
    action: 'api_key.revoked',
    actorId: actor.id,
    targetType: 'api_key',
    targetId: key.id,
    ip: actor.ip,
    details: {
      ownerId: key.userId,
      name: key.name,
      revokedWithIt: Math.max(0, ids.length - 1),
      newlyRevoked: revoked,
    },
  });
}

export type { IntrospectionResult };

/** The key and its owner if the key may be used now: not revoked, not expired, owner active. */
export async function findUsableApiKey(
  ctx: AuthContext,
  token: string,
): Promise<{ key: ApiKey; user: User } | undefined> {
  if (!token.startsWith(API_KEY_PREFIX)) return undefined;
  const found = await findApiKeyWithOwner(ctx.db, sha256Hex(token));
  if (!found || found.revokedAt || (found.expiresAt && found.expiresAt <= new Date())) return undefined;
  if (found.user.status !== 'active') return undefined;
  touchLastUsed(ctx, found.id);
  const { user, ...key } = found;
  return { key, user };
}

export async function introspectApiKey(ctx: AuthContext, token: string): Promise<IntrospectionResult> {
  const usable = await findUsableApiKey(ctx, token);
  if (!usable) return { active: false };
  const { key, user } = usable;
  return {
    active: true,
    sub: user.id,
    email: user.email,
    role: user.role,
    keyId: key.id,
    keyName: key.name,
    models: (key.models as string[] | null) ?? null,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    scopes: storedScopes(key.scopes),
    ancestorKeyIds: await keyAncestors(ctx.db, key.parentKeyId),
  };
}

/** At most one write per key per interval, across replicas (the WHERE does the throttling). */
function touchLastUsed(ctx: AuthContext, keyId: string): void {
  const now = new Date();
  const staleBefore = new Date(now.getTime() - ctx.config.API_KEY_LAST_USED_INTERVAL_SECONDS * 1000);
  void touchApiKeyLastUsed(ctx.db, keyId, now, staleBefore).catch((error: unknown) =>
    ctx.logger.warn('updating api key last-used failed', { error, keyId }),
  );
}
