import { AppError } from '@corral/service-kit';

/**
 * What an API key may do. `inference` (the default) is /v1 and the conversation API's generation
 * routes; `keys` manages the keys it created; `account` changes its owner's account; `admin` opens
 * the admin routes (only on an admin's key, and only when an admin grants it).
 */
export const API_KEY_SCOPES = ['inference', 'keys', 'account', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export const DEFAULT_KEY_SCOPES: ApiKeyScope[] = ['inference'];

/** What a key is allowed: its scopes, model allowlist (null = every model) and expiry (null = never). */
export interface KeyGrant {
  scopes: string[];
  models: string[] | null;
  expiresAt: Date | null;
}

export interface RequestedGrant {
  scopes?: string[] | undefined;
  models?: string[] | null | undefined;
  expiresAt?: Date | null | undefined;
}

const wider = (detail: string) =>
  new AppError('forbidden', `A key cannot create a key wider than itself: ${detail}.`);

/**
 * The grant of a key created by another key: whatever is left out is inherited, and nothing may
 * be wider than the parent's (more scopes, more models, a later or no expiry) — that is refused.
 */
export function narrowGrant(parent: KeyGrant, requested: RequestedGrant): KeyGrant {
  const scopes = requested.scopes ?? parent.scopes;
  const extraScope = scopes.find((scope) => !parent.scopes.includes(scope));
  if (extraScope) throw wider(`scope "${extraScope}"`);

  let models = requested.models === undefined ? parent.models : requested.models;
  if (parent.models !== null) {
    if (models === null) throw wider('every model, where it is limited to a list');
    const extraModel = models.find((model) => !parent.models?.includes(model));
    if (extraModel !== undefined) throw wider(`model "${extraModel}"`);
  }
  models = models === null ? null : [...new Set(models)];

  const expiresAt = requested.expiresAt === undefined ? parent.expiresAt : requested.expiresAt;
  if (parent.expiresAt !== null && (expiresAt === null || expiresAt > parent.expiresAt)) {
    throw wider('an expiry after its own');
  }
  return { scopes: [...new Set(scopes)], models, expiresAt };
}

/**
 * The grant of a key created in a session. A user may give their own keys `inference` only;
 * wider scopes come from an admin (`byAdmin`), and `admin` only on an admin's key.
 */
export function sessionGrant(
  requested: RequestedGrant,
  { byAdmin, ownerIsAdmin }: { byAdmin: boolean; ownerIsAdmin: boolean },
): KeyGrant {
  const scopes = [...new Set(requested.scopes ?? DEFAULT_KEY_SCOPES)];
  if (!byAdmin) {
    const extra = scopes.find((scope) => scope !== 'inference');
    if (extra) throw new AppError('forbidden', `Only an administrator can grant the "${extra}" scope.`);
  }
  if (scopes.includes('admin') && !ownerIsAdmin) {
    throw new AppError('validation_failed', 'body.scopes: "admin" is only for an administrator\'s key');
  }
  return { scopes, models: requested.models ?? null, expiresAt: requested.expiresAt ?? null };
}
