import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '@corral/service-kit';
import {
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTPayload,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
} from 'jose';
import { authUnavailable, expiredToken, invalidToken } from './auth-errors.js';
import { TtlCache } from '@corral/service-kit';
import { type AuthLogger, type AuthPrincipal, SCOPES, isRole } from './types.js';

export interface JwtVerifierOptions {
  jwksUrl: string | URL;
  issuer: string;
  audience: string | string[];
  clockToleranceSec: number;
  jwksTimeoutMs: number;
  jwksCooldownMs: number;
  jwksCacheMaxAgeMs: number;
  /** How long a verified token's principal is reused (never past its `exp`); 0 = verify every time. */
  cacheMs: number;
  cacheMaxEntries: number;
  logger: AuthLogger;
}

/** Real access tokens are about 1 KB; anything this long is rejected before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
/** After a failed JWKS refresh, how long the keys fetched before are used without asking again. */
const STALE_KEYS_RETRY_MS = 5000;
const REQUIRED_CLAIMS = ['sub', 'role', 'exp', 'iat', 'jti'];
/** Refetches for a kid newer than the cached set skip the cooldown, but not more often than this. */
const EAGER_REFETCH_MIN_INTERVAL_MS = 1000;

/** The (not yet verified) `iat` of a token, to tell whether it may be signed by a key newer than our set. */
function unverifiedIssuedAt(token: FlattenedJWSInput): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(String(token.payload), 'base64url').toString('utf8')) as {
      iat?: unknown;
    };
    return typeof payload.iat === 'number' ? payload.iat : undefined;
  } catch {
    return undefined;
  }
}

/** Errors jose throws for a token that names no usable key; anything else from the key set is a fetch failure. */
const isKeySelectionError = (error: unknown): boolean =>
  error instanceof errors.JWKSNoMatchingKey ||
  error instanceof errors.JWKSMultipleMatchingKeys ||
  error instanceof errors.JOSENotSupported ||
  error instanceof AppError;

const describeError = (error: unknown): Record<string, unknown> =>
  error instanceof Error
    ? { name: error.name, code: (error as { code?: unknown }).code, message: error.message }
    : { message: String(error) };

/**
 * Verifies RS256 access tokens against auth's JWKS. jose caches the key set, refetches it on an
 * unknown `kid` (at most once per cooldown) and when it is older than the cache age; if a refresh
 * fails, the keys fetched before keep working, so a short auth outage does not log everyone out.
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => Promise<AuthPrincipal> {
  const { logger } = options;
  const jwksUrl = new URL(options.jwksUrl);
  const remoteKeys = createRemoteJWKSet(jwksUrl, {
    timeoutDuration: options.jwksTimeoutMs,
    cooldownDuration: options.jwksCooldownMs,
    cacheMaxAge: options.jwksCacheMaxAgeMs,
  });
  let staleKeys: ReturnType<typeof createLocalJWKSet> | undefined;
  let retryRemoteAt = 0;
  let eagerRefetchAt = 0;
  let pendingRefetch: Promise<void> | undefined;

  /** One refetch shared by every waiting request, started no sooner than the interval allows. */
  const refetchForNewerKey = (): Promise<void> => {
    pendingRefetch ??= (async () => {
      const wait = eagerRefetchAt + EAGER_REFETCH_MIN_INTERVAL_MS - Date.now();
      if (wait > 0) await delay(wait);
      eagerRefetchAt = Date.now();
      await remoteKeys.reload();
    })().finally(() => {
      pendingRefetch = undefined;
    });
    return pendingRefetch;
  };

  /**
   * jose refetches for an unknown kid at most once per cooldown, so a second rotation within it
   * would refuse new tokens until it ends. A token issued no earlier than our last refetch (`iat`
   * has whole seconds, so the same second counts) may be signed by a key newer than the set:
   * refetch (at most once a second: a token arriving sooner waits for that one shared refetch;
   * never for a token dated in the future, so forged tokens cannot turn this into a flood).
   */
  const resolveNewerKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    const iat = unverifiedIssuedAt(token);
    const mayBeNewer =
      iat !== undefined &&
      iat >= Math.floor(eagerRefetchAt / 1000) &&
      iat * 1000 <= Date.now() + options.clockToleranceSec * 1000;
    if (!mayBeNewer) return undefined;
    await refetchForNewerKey();
    return remoteKeys(header, token);
  };

  const getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    // The contract puts `kid` in every token; without it jose would try every key in the set.
    if (typeof header.kid !== 'string' || header.kid === '') throw invalidToken();
    if (staleKeys && Date.now() < retryRemoteAt) return staleKeys(header, token);
    // Not cooling down, jose refetches by itself for an unknown kid: that counts as our last refetch.
    const joseMayRefetch = !remoteKeys.coolingDown;
    try {
      return await remoteKeys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && joseMayRefetch) eagerRefetchAt = Date.now();
      else if (error instanceof errors.JWKSNoMatchingKey) {
        const newer = await resolveNewerKey(header, token).catch(() => undefined);
        if (newer) return newer;
      }
      if (isKeySelectionError(error)) throw error;
      const snapshot = remoteKeys.jwks();
      if (snapshot === undefined) {
        logger.warn('cannot fetch the JWKS; rejecting access tokens until it answers', {
          jwksUrl: jwksUrl.href,
          error: describeError(error),
        });
        throw authUnavailable('auth service unreachable: cannot fetch the token signing keys.');
      }
      logger.warn('JWKS refresh failed; verifying with the keys fetched before', {
        jwksUrl: jwksUrl.href,
        error: describeError(error),
      });
      staleKeys = createLocalJWKSet(snapshot);
      retryRemoteAt = Date.now() + STALE_KEYS_RETRY_MS;
      return staleKeys(header, token);
    }
  };

  async function verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: ['RS256'],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: options.clockToleranceSec,
      });
      return payload;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWTExpired) throw expiredToken();
      // The reason stays in the logs; the caller only learns that the token was refused.
      const level = error instanceof errors.JOSEError ? 'debug' : 'warn';
      logger[level]('access token rejected', { reason: describeError(error) });
      throw invalidToken();
    }
  }

  // Keyed by a SHA-256 of the whole token: the token itself is never kept.
  const verified = new TtlCache<AuthPrincipal>(options.cacheMaxEntries, () => Date.now());

  return async function verifyAccessToken(token: string): Promise<AuthPrincipal> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken();
    const cacheKey = options.cacheMs > 0 ? createHash('sha256').update(token).digest('base64url') : undefined;
    const hit = cacheKey === undefined ? undefined : verified.get(cacheKey);
    if (hit) return { ...hit, scopes: [...hit.scopes] };
    const { sub, role, jti, email, exp, iat, sid } = await verifySignatureAndClaims(token);
    if (
      typeof sub !== 'string' ||
      sub === '' ||
      typeof jti !== 'string' ||
      jti === '' ||
      !isRole(role) ||
      (email !== undefined && typeof email !== 'string') ||
      typeof iat !== 'number' ||
      (sid !== undefined && typeof sid !== 'string')
    ) {
      logger.debug('access token rejected', { reason: { message: 'a claim has the wrong type' } });
      throw invalidToken();
    }
    const principal: AuthPrincipal = {
      kind: 'jwt',
      userId: sub,
      email: email ?? null,
      role,
      tokenId: jti,
      models: null,
      scopes: [...SCOPES],
      issuedAt: iat,
      ...(typeof sid === 'string' ? { sessionId: sid } : {}),
    };
    if (cacheKey !== undefined && typeof exp === 'number') {
      verified.set(cacheKey, principal, Math.min(options.cacheMs, exp * 1000 - Date.now()));
    }
    return { ...principal, scopes: [...principal.scopes] };
  };
}
