import { createHash } from 'node:crypto';
import axios, { type AxiosResponse } from 'axios';
import { authUnavailable, invalidApiKey } from './auth-errors.js';
import { TtlCache } from '@corral/service-kit';
import { type AuthLogger, type AuthPrincipal, isRole } from './types.js';

export const API_KEY_PREFIX = 'sk-corral-';
const MAX_API_KEY_LENGTH = 512;

export interface IntrospectorOptions {
  introspectionUrl: string;
  serviceToken: string;
  cacheMs: number;
  negativeCacheMs: number;
  timeoutMs: number;
  maxCacheEntries: number;
  logger: AuthLogger;
  /** A user's latest revocation stamp (ms): a cached answer older than it is asked again. */
  userNotBefore?: (userId: string) => number | undefined;
}

/** What the cache holds per key hash: the principal, or null for a key auth called inactive. */
type Answer = { principal: AuthPrincipal; expiresAt: number | null; fetchedAt: number } | null;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isOptionalString = (value: unknown): value is string | null | undefined =>
  value == null || typeof value === 'string';

/** Turns auth's answer into an `Answer`; `undefined` means auth broke the contract. */
function parseAnswer(body: unknown): Answer | undefined {
  if (!isObject(body)) return undefined;
  if (body.active === false) return null;
  const { active, sub, email, role, keyId, keyName, models, expiresAt, scopes, ancestorKeyIds } = body;
  if (active !== true || typeof sub !== 'string' || sub === '' || !isRole(role)) return undefined;
  if (typeof keyId !== 'string' || keyId === '' || !isOptionalString(email) || !isOptionalString(keyName)) {
    return undefined;
  }
  if (models != null && !(Array.isArray(models) && models.every((m) => typeof m === 'string'))) {
    return undefined;
  }
  if (!isOptionalString(expiresAt)) return undefined;
  if (scopes != null && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))) {
    return undefined;
  }
  if (
    ancestorKeyIds != null &&
    !(Array.isArray(ancestorKeyIds) && ancestorKeyIds.every((id) => typeof id === 'string'))
  ) {
    return undefined;
  }
  const expiresAtMs = expiresAt == null ? null : Date.parse(expiresAt);
  if (Number.isNaN(expiresAtMs)) return undefined;
  return {
    principal: {
      kind: 'api_key',
      userId: sub,
      email: email ?? null,
      role,
      tokenId: keyId,
      ...(keyName == null ? {} : { keyName }),
      models: models == null ? null : [...models],
      // An auth from before scopes existed: its keys are treated as what they migrate to.
      scopes: scopes == null ? ['inference'] : [...scopes],
      // An auth from before key trees: no ancestors.
      ancestorKeyIds: ancestorKeyIds == null ? [] : [...ancestorKeyIds],
    },
    expiresAt: expiresAtMs,
    fetchedAt: Date.now(),
  };
}

/** Connection failures are worth one retry (introspection is idempotent); a timeout is not. */
const isRetryable = (error: unknown): boolean =>
  axios.isAxiosError(error) &&
  error.response === undefined &&
  !['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED'].includes(error.code ?? '');

// Only the code and message: an axios error also carries the request, with the key and our token.
const describeError = (error: unknown): Record<string, unknown> =>
  axios.isAxiosError(error)
    ? { code: error.code, message: error.message }
    : { message: error instanceof Error ? error.message : String(error) };

/**
 * Checks `sk-corral-…` keys with auth's introspection endpoint. Answers are cached by a SHA-256 of
 * the key (the key itself is never stored or logged): active ones for `cacheMs`, so a revoked key
 * stops working within that time, inactive ones for `negativeCacheMs`, so a flood of bad keys
 * costs auth one call per key per interval. Concurrent checks of one key share one call.
 */
export function createIntrospector(options: IntrospectorOptions): (apiKey: string) => Promise<AuthPrincipal> {
  const { logger } = options;
  const cache = new TtlCache<Answer>(options.maxCacheEntries);
  const inFlight = new Map<string, Promise<Answer>>();
  const http = axios.create({
    timeout: options.timeoutMs,
    maxRedirects: 0,
    // Statuses are mapped below, not thrown.
    validateStatus: () => true,
    headers: {
      Authorization: `Bearer ${options.serviceToken}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
  });

  async function postIntrospection(apiKey: string): Promise<AxiosResponse<unknown>> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await http.post<unknown>(options.introspectionUrl, { token: apiKey });
      } catch (error) {
        if (attempt === 1 && isRetryable(error)) continue;
        logger.warn('API key introspection failed: auth service unreachable', {
          introspectionUrl: options.introspectionUrl,
          attempts: attempt,
          error: describeError(error),
        });
        throw authUnavailable('auth service unreachable: cannot check the API key.');
      }
    }
  }

  async function lookUp(apiKey: string, cacheKey: string): Promise<Answer> {
    const response = await postIntrospection(apiKey);
    if (response.status === 401 || response.status === 403) {
      // Our fault, not the caller's: answering 401 would tell clients their valid key is bad.
      logger.error('auth service refused our service token; check INTERNAL_SERVICE_TOKEN', {
        introspectionUrl: options.introspectionUrl,
        status: response.status,
      });
      throw authUnavailable('auth service unavailable: cannot check the API key.');
    }
    const answer = response.status === 200 ? parseAnswer(response.data) : undefined;
    if (answer === undefined) {
      logger.warn('API key introspection answered unexpectedly', {
        introspectionUrl: options.introspectionUrl,
        status: response.status,
      });
      throw authUnavailable('auth service unavailable: cannot check the API key.');
    }
    const ttl =
      answer === null
        ? options.negativeCacheMs
        : Math.min(options.cacheMs, (answer.expiresAt ?? Infinity) - Date.now());
    cache.set(cacheKey, answer, ttl);
    return answer;
  }

  return async function introspectApiKey(apiKey: string): Promise<AuthPrincipal> {
    if (!apiKey.startsWith(API_KEY_PREFIX) || apiKey.length > MAX_API_KEY_LENGTH) throw invalidApiKey();
    const cacheKey = createHash('sha256').update(apiKey).digest('base64url');
    let answer = cache.get(cacheKey);
    // Disabled, demoted or re-passworded since this answer was fetched: ask auth again.
    const stamp = answer ? options.userNotBefore?.(answer.principal.userId) : undefined;
    if (answer && stamp !== undefined && stamp >= answer.fetchedAt) answer = undefined;
    if (answer === undefined) {
      let pending = inFlight.get(cacheKey);
      if (pending === undefined) {
        pending = lookUp(apiKey, cacheKey).finally(() => inFlight.delete(cacheKey));
        inFlight.set(cacheKey, pending);
      }
      answer = await pending;
    }
    if (answer === null || (answer.expiresAt !== null && answer.expiresAt <= Date.now())) {
      throw invalidApiKey();
    }
    const { principal } = answer;
    return {
      ...principal,
      models: principal.models && [...principal.models],
      scopes: [...principal.scopes],
      ...(principal.ancestorKeyIds ? { ancestorKeyIds: [...principal.ancestorKeyIds] } : {}),
    };
  };
}
