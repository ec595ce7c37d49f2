import { z } from 'zod';
import { recordId, timestamp } from './common.js';
import { role } from './users.js';

/** What an API key may do: `inference` (`/v1` and generation) by default; the rest an admin grants. */
export const apiKeyScope = z.enum(['inference', 'keys', 'account', 'admin']);
export type ApiKeyScope = z.infer<typeof apiKeyScope>;

/** auth's view of an API key (never the key itself, only its display prefix). */
export const apiKey = z.object({
  id: recordId,
  name: z.string(),
  prefix: z.string(),
  userId: recordId,
  /** `null` = every model the owner may use. */
  models: z.array(z.string()).nullable(),
  expiresAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
  /** Who issued it: the owner, or the admin who made it for a service account. */
  createdById: z.string().nullable(),
  /** What the key may do beyond inference (`inference` is every key's; see auth's key-scopes). */
  scopes: z.array(apiKeyScope),
  /** The key it was created with: revoking that one revokes this one. */
  parentKeyId: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKey>;

/** `POST /api/auth/api-keys`: the plaintext key, shown this once and never again. */
export const createdApiKey = z.object({ key: z.string().startsWith('sk-corral-'), apiKey });
export type CreatedApiKey = z.infer<typeof createdApiKey>;

/** `GET /api/auth/api-keys` (and an admin's view of a user's keys): newest first, not paged. */
export const apiKeyList = z.object({ items: z.array(apiKey) });
export type ApiKeyList = z.infer<typeof apiKeyList>;

/** `POST /api/auth/introspect`: whether a key may be used now, and whose it is. */
export const introspectionResult = z.discriminatedUnion('active', [
  z.object({ active: z.literal(false) }),
  z.object({
    active: z.literal(true),
    sub: z.string(),
    email: z.string(),
    role,
    keyId: z.string(),
    keyName: z.string(),
    models: z.array(z.string()).nullable(),
    expiresAt: timestamp.nullable(),
    scopes: z.array(apiKeyScope),
    /**
     * The keys this one was created from, its parent first: each one's daily budget is a ceiling
     * on this key's (a key never spends more a day than the key that made it may).
     */
    ancestorKeyIds: z.array(z.string()),
  }),
]);
export type IntrospectionResult = z.infer<typeof introspectionResult>;
