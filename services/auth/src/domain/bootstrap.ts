import type { AuthContext } from '../context.js';
import { findActiveApiKeyIdsNamed, findApiKeyByHash, revokeApiKeysById } from '../data/api-keys.js';
import { withAdvisoryLock } from '../data/db.js';
import { findUserByEmail } from '../data/users.js';
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
    let user = await findUserByEmail(ctx.db, normalizeEmail(email));
    const userCreated = !user;
    if (!user) {
      user = await createUser(ctx, {
        email,
        password,
        role: 'admin',
        status: 'active',
        name: 'Administrator',
        // A password from a Secret or a generated file: the web app asks for a new one.
        mustChangePassword: true,
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
      const existing = await findApiKeyByHash(ctx.db, sha256Hex(apiKey));
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

/**
 * Issues the admin a new bootstrap key and revokes the previous one(s) in one transaction; returns
 * the new key's plaintext (shown once). An admin account is required: this is an operator's key.
 */
export async function rotateBootstrapKey(ctx: AuthContext, email: string, newKey = generateApiKey()) {
  const user = await findUserByEmail(ctx.db, normalizeEmail(email));
  if (!user) throw new Error(`no account with email ${email}; run seed-admin first`);
  if (user.role !== 'admin') throw new Error(`${email} is not an admin; the bootstrap key is an admin's`);
  return withAdvisoryLock(ctx.db, 'bootstrap', async () => {
    const previous = await findActiveApiKeyIdsNamed(ctx.db, user.id, BOOTSTRAP_KEY_NAME);
    const created = await createApiKey(ctx, user.id, BOOTSTRAP_KEY_GRANT, { id: null }, newKey);
    const revoked = await revokeApiKeysById(ctx.db, previous);
    for (const id of previous) {
      await ctx.audit.record({
        action: 'api_key.revoked',
        actorId: null,
        targetType: 'api_key',
        targetId: id,
        details: { via: 'rotate-bootstrap-key', name: BOOTSTRAP_KEY_NAME, replacedBy: created.apiKey.id },
      });
    }
    return { key: created.key, keyId: created.apiKey.id, revoked };
  });
}
