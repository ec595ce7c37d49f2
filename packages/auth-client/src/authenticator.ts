import { createLogger, setRequestUser } from '@corral/service-kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  insufficientRole,
  insufficientScope,
  invalidToken,
  malformedAuthorization,
  missingCredentials,
  revokedToken,
  sessionRequired,
} from './auth-errors.js';
import { API_KEY_PREFIX, createIntrospector } from './introspection.js';
import { createJwtVerifier } from './jwt.js';
import { RevocationList, type RevocationSubscriberSource } from './revocations.js';
import type { AuthLogger, AuthPrincipal, Role, Scope } from './types.js';

export interface AuthenticatorOptions {
  /** `{AUTH_URL}/.well-known/jwks.json` */
  jwksUrl: string | URL;
  /** Expected `iss` of access tokens. */
  issuer: string;
  /** Expected `aud` of access tokens (this service's audience). */
  audience: string | string[];
  /** `{AUTH_URL}/api/auth/introspect` */
  introspectionUrl: string;
  /** INTERNAL_SERVICE_TOKEN, the secret shared with auth. */
  serviceToken: string;
  /** How long an active API key's answer is reused; a revoked key works at most this long. */
  introspectionCacheMs?: number;
  /** How long an inactive key's answer is reused. */
  introspectionNegativeCacheMs?: number;
  introspectionTimeoutMs?: number;
  /** Largest number of API key answers kept; the oldest go first. */
  introspectionCacheMaxEntries?: number;
  clockToleranceSec?: number;
  jwksTimeoutMs?: number;
  /** An unknown `kid` refetches the JWKS at most once per this interval. */
  jwksCooldownMs?: number;
  /** The JWKS is refetched when older than this, so a key removed by auth stops verifying. */
  jwksCacheMaxAgeMs?: number;
  /**
   * How long a verified access token's principal is reused without checking its signature again
   * (never past the token's `exp`); 0 (default) = every request. A busy service saves an RSA
   * verification per request; a key removed from the JWKS stops working after at most this long
   * (plus jwksCacheMaxAgeMs, as without it).
   */
  accessTokenCacheMs?: number;
  /** Largest number of verified tokens remembered; the oldest go first. */
  accessTokenCacheMaxEntries?: number;
  /** Where problems with auth itself are logged (a winston logger from service-kit fits). */
  logger?: AuthLogger;
  /**
   * Revocation stamps (sign-out, disable, role and password changes) checked on every request,
   * cached principals included: polled from `feedUrl` (default: beside introspectionUrl) every
   * `pollMs` (default 2 s) and, with `redis`, received over pub/sub on `channel` as they happen.
   */
  revocations?: {
    feedUrl?: string;
    pollMs?: number;
    redis?: RevocationSubscriberSource | undefined;
    channel?: string;
  };
}

export interface Authenticator {
  /** Rejects requests without a valid JWT or API key (401), or when auth cannot be reached (503). */
  requireAuth: RequestHandler;
  /** Like `requireAuth`, but lets requests without an Authorization header through unauthenticated. */
  optionalAuth: RequestHandler;
  verifyAccessToken(token: string): Promise<AuthPrincipal>;
  introspectApiKey(apiKey: string): Promise<AuthPrincipal>;
  /**
   * What `requireAuth` does, for a route answered without express: the principal of an
   * `Authorization` header value, or the same 401/503 errors (missing, malformed, invalid).
   */
  authenticate(authorization: string | undefined): Promise<AuthPrincipal>;
  requireRole: typeof requireRole;
  /** The revocation stamps in memory (when `revocations` is configured). */
  revocations: RevocationList | undefined;
  /** Stops polling and the subscription. */
  close(): Promise<void>;
}

// RFC 6750 b64token; anything else in the header is malformed.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Whether a role is at least the one required: an admin may do whatever a user may. */
const ROLE_RANK: Record<Role, number> = { user: 1, admin: 2 };

/** 403 unless the authenticated caller has one of `roles` (or outranks it); 401 if nobody is signed in. */
export function requireRole(...roles: [Role, ...Role[]]): RequestHandler {
  const minimum = Math.min(...roles.map((role) => ROLE_RANK[role]));
  return (req, _res, next) => {
    if (req.auth === undefined) return next(missingCredentials());
    if (ROLE_RANK[req.auth.role] < minimum) return next(insufficientRole());
    return next();
  };
}

/**
 * 403 for an API key without `scope`; a signed-in session (JWT) passes (its role still applies).
 * Put it after requireAuth on key management, admin relays and account changes.
 */
/** Throws 403 (`insufficient_scope`) for an API key without `scope`; a session passes. */
export function assertScope(principal: AuthPrincipal, scope: Scope): void {
  if (principal.kind === 'api_key' && !principal.scopes.includes(scope)) throw insufficientScope(scope);
}

export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    if (req.auth === undefined) return next(missingCredentials());
    if (req.auth.kind === 'api_key' && !req.auth.scopes.includes(scope))
      return next(insufficientScope(scope));
    return next();
  };
}

/** 403 for any API key: only a signed-in session may pass. */
export const requireSession: RequestHandler = (req, _res, next) => {
  if (req.auth === undefined) return next(missingCredentials());
  if (req.auth.kind !== 'jwt') return next(sessionRequired());
  return next();
};

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const logger = options.logger ?? createLogger({ service: 'auth-client' });
  const revocations = options.revocations
    ? new RevocationList({
        feedUrl:
          options.revocations.feedUrl ?? options.introspectionUrl.replace(/\/introspect$/, '/revocations'),
        serviceToken: options.serviceToken,
        pollMs: options.revocations.pollMs ?? 2000,
        timeoutMs: options.introspectionTimeoutMs ?? 3000,
        redis: options.revocations.redis,
        channel: options.revocations.channel ?? 'corral:revocations',
        retentionMs: 24 * 3_600_000,
        logger,
      })
    : undefined;
  revocations?.start();
  const verifySignedToken = createJwtVerifier({
    jwksUrl: options.jwksUrl,
    issuer: options.issuer,
    audience: options.audience,
    clockToleranceSec: options.clockToleranceSec ?? 5,
    jwksTimeoutMs: options.jwksTimeoutMs ?? 5000,
    jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
    jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs ?? 600_000,
    cacheMs: options.accessTokenCacheMs ?? 0,
    cacheMaxEntries: options.accessTokenCacheMaxEntries ?? 10_000,
    logger,
  });
  const introspectApiKey = createIntrospector({
    introspectionUrl: options.introspectionUrl,
    serviceToken: options.serviceToken,
    cacheMs: options.introspectionCacheMs ?? 5000,
    negativeCacheMs: options.introspectionNegativeCacheMs ?? 1000,
    timeoutMs: options.introspectionTimeoutMs ?? 3000,
    maxCacheEntries: options.introspectionCacheMaxEntries ?? 10_000,
    logger,
    ...(revocations ? { userNotBefore: (userId: string) => revocations.userNotBefore(userId) } : {}),
  });

  // After the cache: a principal remembered for accessTokenCacheMs is refused as soon as a stamp lands.
  async function verifyAccessToken(token: string): Promise<AuthPrincipal> {
    const principal = await verifySignedToken(token);
    if (revocations?.isTokenRevoked(principal.userId, principal.issuedAt ?? 0, principal.sessionId)) {
      throw revokedToken();
    }
    return principal;
  }

  async function authenticateHeader(header: string): Promise<AuthPrincipal> {
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (token === undefined) throw malformedAuthorization();
    if (token.startsWith(API_KEY_PREFIX)) return introspectApiKey(token);
    // A compact JWS is three base64url parts; anything else is neither kind of credential.
    if (token.split('.').length !== 3) throw invalidToken();
    return verifyAccessToken(token);
  }

  const middleware =
    (required: boolean): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      const header = req.get('authorization');
      if (header === undefined || header === '') {
        return required ? next(missingCredentials()) : next();
      }
      authenticateHeader(header).then((principal) => {
        req.auth = principal;
        res.locals.auth = principal;
        setRequestUser(principal.userId);
        next();
      }, next);
    };

  return {
    requireAuth: middleware(true),
    optionalAuth: middleware(false),
    verifyAccessToken,
    introspectApiKey,
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') throw missingCredentials();
      return authenticateHeader(authorization);
    },
    requireRole,
    revocations,
    close: async () => revocations?.close(),
  };
}
