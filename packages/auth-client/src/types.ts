export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * What an API key may do (auth decides; see its key-scopes): `inference` is /v1 and generation,
 * `keys` key management, `account` account changes, `admin` the admin routes. A signed-in
 * session (JWT) holds them all, within its role.
 */
export const SCOPES = ['inference', 'keys', 'account', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, however they proved it. */
export interface AuthPrincipal {
  /** `jwt`: a signed-in user's access token; `api_key`: an `sk-corral-…` key. */
  kind: 'jwt' | 'api_key';
  userId: string;
  /** Null only if an access token was issued without an `email` claim. */
  email: string | null;
  role: Role;
  /** The token's `jti`, or the API key's id: what to put in audit logs (never the secret itself). */
  tokenId: string;
  /** The API key's display name (API keys only). */
  keyName?: string;
  /** Models an API key is limited to; null means every model the user may use. Always null for JWTs. */
  models: string[] | null;
  /** What the caller may do: an API key's granted scopes; every scope for a session (JWT). */
  scopes: string[];
  /** The keys an API key was created from, its parent first (API keys only; empty for a top key). */
  ancestorKeyIds?: string[];
  /** The session (`sid`) an access token belongs to (JWTs that carry one). */
  sessionId?: string;
  /** The access token's `iat`, seconds (JWTs only): checked against revocation stamps. */
  issuedAt?: number;
}

/** The subset of a winston logger the middleware writes to. */
export interface AuthLogger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

declare global {
  // Declaration merging is the way express types are extended.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `requireAuth` / `optionalAuth` once the caller is authenticated. */
      auth?: AuthPrincipal;
    }
    interface Locals {
      auth?: AuthPrincipal;
    }
  }
}
