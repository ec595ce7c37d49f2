import { hash, timingSafeEqual } from 'node:crypto';
import { createAuthenticator } from '@corral/auth-client';
import { AppError, type Logger } from '@corral/service-kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { GatewayConfig } from './config.js';
import { type WireFamily, sendWireError } from './routes/wire-errors.js';

/** Whether a bearer token is an admin's access token; throws only when that cannot be known (auth down). */
export type AdminTokenVerifier = (token: string) => Promise<boolean>;

const BEARER = /^Bearer +(\S+) *$/i;

function bearerToken(req: Request): string | undefined {
  return BEARER.exec(req.get('authorization') ?? '')?.[1];
}

const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/** The expected token's digest, computed once (it is the same on every request). */
let expectedDigest: { token: string; digest: Buffer } | undefined;

/** Compares in constant time whatever the lengths (hashing first hides the expected length too). */
export function tokensEqual(presented: string, expected: string): boolean {
  if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: digest(expected) };
  return timingSafeEqual(digest(presented), expectedDigest.digest);
}

function unauthorized(presented: boolean, detail: string): AppError {
  return new AppError(presented ? 'invalid_token' : 'unauthorized', detail, {
    headers: { 'WWW-Authenticate': presented ? 'Bearer error="invalid_token"' : 'Bearer' },
  });
}

/** Ollama and OpenAI clients read errors in their own shape; everything else gets plain problem+json. */
function familyOf(path: string): WireFamily | undefined {
  if (path.startsWith('/api/')) return 'ollama';
  if (path.startsWith('/v1/')) return 'openai';
  return undefined;
}

function reject(req: Request, res: Response, next: NextFunction, error: AppError): void {
  const family = familyOf(req.path);
  if (family) sendWireError(res, family, error);
  else next(error);
}

/**
 * Service-to-service auth: with GATEWAY_SERVICE_TOKEN set, every route mounted after the probes
 * needs `Authorization: Bearer <token>`; /admin/* is left to requireAdmin (token or admin JWT).
 */
export function requireServiceToken(serviceToken: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (req.path.startsWith('/admin/')) return next();
    const error = serviceTokenError(req.headers.authorization, serviceToken);
    if (error === undefined) return next();
    reject(req, res, next, error);
  };
}

/** Why a request may not pass the service-token check, or undefined when it may (or no token is set). */
export function serviceTokenError(
  authorization: string | undefined,
  serviceToken: string | undefined,
): AppError | undefined {
  if (serviceToken === undefined) return undefined;
  const presented = BEARER.exec(authorization ?? '')?.[1];
  if (presented !== undefined && tokensEqual(presented, serviceToken)) return undefined;
  return unauthorized(
    presented !== undefined,
    'Send the gateway service token as "Authorization: Bearer <token>".',
  );
}

/** /admin/*: the service token, or an admin's access token when a verifier is configured. Open only when neither is. */
export function requireAdmin(
  serviceToken: string | undefined,
  verifyAdminToken: AdminTokenVerifier | undefined,
): RequestHandler {
  return (req, res, next) => {
    if (serviceToken === undefined && verifyAdminToken === undefined) return next();
    const presented = bearerToken(req);
    if (presented === undefined) {
      return next(
        unauthorized(
          false,
          'Send the service token or an admin access token as "Authorization: Bearer <token>".',
        ),
      );
    }
    if (serviceToken !== undefined && tokensEqual(presented, serviceToken)) return next();
    if (verifyAdminToken === undefined) return next(unauthorized(true, 'The service token is wrong.'));
    verifyAdminToken(presented).then(
      (isAdmin) =>
        next(isAdmin ? undefined : unauthorized(true, 'Needs the service token or an admin access token.')),
      next,
    );
  };
}

/** Adapts auth-client's verifyAccessToken: a bad or non-admin token is false; auth being down stays an error (503). */
export function adminVerifierFrom(
  verifyAccessToken: (token: string) => Promise<{ role: string }>,
): AdminTokenVerifier {
  return async (token) => {
    try {
      return (await verifyAccessToken(token)).role === 'admin';
    } catch (error) {
      if (error instanceof AppError && error.status >= 500) throw error;
      return false;
    }
  };
}

/**
 * Admin JWTs verified against auth's JWKS, when AUTH_URL is set. With INTERNAL_SERVICE_TOKEN the
 * revocation feed is polled too, so sign-out, disable and demotion reach /admin/* within seconds.
 * `onClose` receives what stops the polling (the kit's shutdown hook).
 */
export function adminJwtVerifier(
  config: GatewayConfig,
  logger: Logger,
  onClose?: (close: () => Promise<void>) => void,
): AdminTokenVerifier | undefined {
  if (config.AUTH_URL === undefined) return undefined;
  const auth = createAuthenticator({
    jwksUrl: `${config.AUTH_URL}/.well-known/jwks.json`,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    introspectionUrl: `${config.AUTH_URL}/api/auth/introspect`,
    // Only access tokens are verified here; API keys (the introspected kind) never open /admin.
    serviceToken: config.INTERNAL_SERVICE_TOKEN ?? 'unused-the-gateway-never-introspects-api-keys',
    logger,
    ...(config.INTERNAL_SERVICE_TOKEN ? { revocations: {} } : {}),
  });
  onClose?.(() => auth.close());
  return adminVerifierFrom(auth.verifyAccessToken);
}
