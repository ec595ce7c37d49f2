import type { AuthContext } from '../context.js';
import { withAdvisoryLock } from '../data/db.js';
import { createApiKey, generateApiKey } from './api-keys.js';
import { sha256Hex } from './crypto.js';
import { API_KEY_SCOPES } from './key-scopes.js';
import { createUser, normalizeEmail } from './users.js';

export const BOOTSTRAP_KEY_NAME = 'bootstrap';
/** The operator set this key for automation, which is an admin granting every scope explicitly. */
const BOOTSTRAP_KEY_GRANT = {
  name: BOOTSTRAP_KEY_NAME,
  scopes: [...API_KEY_SCOPES],
  models: null,
  expiresAt: null,
};

export interface BootstrapResult {
  userId: string;
  userCreated: boolean;
  apiKeyCreated: boolean;
}

/**
 * Creates the first admin from BOOTSTRAP_ADMIN_* if that account does not exist yet. Idempotent and
 * safe from several replicas at once; an existing account is never changed (so a value left in the
 * environment cannot reset a password or promote someone who registered with that address).
 */
export async function seedBootstrapAdmin(ctx: AuthContext): Promise<BootstrapResult | undefined> {
  const {
    BOOTSTRAP_ADMIN_EMAIL: email,
    BOOTSTRAP_ADMIN_PASSWORD: password,
    BOOTSTRAP_ADMIN_API_KEY: apiKey,
  } = ctx.config;
  if (!email || !password) return undefined;
  return withAdvisoryLock(ctx.db, 'bootstrap', async () => {
    let user = await ctx.prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
    const userCreated = !user;
    if (!user) {
      user = await createUser(ctx, {
        email,
        password,
        role: 'admin',
        status: 'active',
        name: 'Administrator',
      });
      await ctx.audit.record({
        action: 'user.bootstrapped',
        actorId: null,
        targetType: 'user',
        targetId: user.id,
      });
      ctx.logger.info('bootstrap admin created', { userId: user.id });
    } else if (user.role !== 'admin') {
      ctx.logger.warn('BOOTSTRAP_ADMIN_EMAIL belongs to an existing non-admin account; left unchanged', {
        userId: user.id,
      });
    }
    let apiKeyCreated = false;
    if (apiKey) {
      const existing = await ctx.prisma.apiKey.findUnique({ where: { keyHash: sha256Hex(apiKey) } });
      if (!existing) {
        await createApiKey(ctx, user.id, BOOTSTRAP_KEY_GRANT, { id: null }, apiKey);
        apiKeyCreated = true;
      } else if (existing.userId !== user.id) {
        ctx.logger.warn('BOOTSTRAP_ADMIN_API_KEY is already registered to another account; not reassigned');
      }
    }
    return { userId: user.id, userCreated, apiKeyCreated };
  });
}

/** Revokes the admin's bootstrap key(s) and issues a new one (given, or generated); returns its plaintext. */
export async function rotateBootstrapKey(ctx: AuthContext, email: string, newKey = generateApiKey()) {
  const user = await ctx.prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
  if (!user) throw new Error(`no account with email ${email}; run seed-admin first`);
  return withAdvisoryLock(ctx.db, 'bootstrap', async () => {
    const revoked = await ctx.prisma.apiKey.updateMany({
      where: { userId: user.id, name: BOOTSTRAP_KEY_NAME, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const created = await createApiKey(ctx, user.id, BOOTSTRAP_KEY_GRANT, { id: null }, newKey);
    return { key: created.key, keyId: created.apiKey.id, revoked: revoked.count };
  });
}
