import { Router } from 'express';
import type { AuthContext } from '../context.js';

/** JWKS and OpenID discovery: what other services (and auth-client) read to verify our tokens. */
export function wellKnownRoutes(ctx: AuthContext): Router {
  const router = Router();
  const { config } = ctx;

  router.get('/.well-known/jwks.json', async (_req, res) => {
    const keys = await ctx.keys.publishedKeys();
    res.set('Cache-Control', `public, max-age=${config.JWKS_MAX_AGE_SECONDS}`).json({ keys });
  });

  // Built from PUBLIC_URL, never the Host header (which a client chooses and a cache would keep).
  // Without PUBLIC_URL the answer names this process's own port and is not cached.
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
  const cacheControl = config.PUBLIC_URL ? `public, max-age=${config.JWKS_MAX_AGE_SECONDS}` : 'no-store';

  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.set('Cache-Control', cacheControl).json({
      issuer: config.JWT_ISSUER,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/api/auth/login`,
      userinfo_endpoint: `${base}/api/auth/me`,
      introspection_endpoint: `${base}/api/auth/introspect`,
      response_types_supported: ['token'],
      grant_types_supported: ['password', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['none'],
      claims_supported: ['iss', 'aud', 'sub', 'email', 'role', 'jti', 'iat', 'exp', 'sid'],
    });
  });

  return router;
}
