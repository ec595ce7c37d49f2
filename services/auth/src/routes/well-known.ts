import { Router, type Request } from 'express';
import type { AuthContext } from '../context.js';

/** JWKS and OpenID discovery: what other services (and auth-client) read to verify our tokens. */
export function wellKnownRoutes(ctx: AuthContext): Router {
  const router = Router();
  const { config } = ctx;

  router.get('/.well-known/jwks.json', async (_req, res) => {
    const keys = await ctx.keys.publishedKeys();
    res.set('Cache-Control', `public, max-age=${config.JWKS_MAX_AGE_SECONDS}`).json({ keys });
  });

  router.get('/.well-known/openid-configuration', (req, res) => {
    const base = publicBase(req, config.PUBLIC_URL);
    res.set('Cache-Control', `public, max-age=${config.JWKS_MAX_AGE_SECONDS}`).json({
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
      claims_supported: ['iss', 'aud', 'sub', 'email', 'role', 'jti', 'iat', 'exp'],
    });
  });

  return router;
}

function publicBase(req: Request, configured: string | undefined): string {
  if (configured) return configured.replace(/\/$/, '');
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}
