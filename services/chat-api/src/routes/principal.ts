import type { AuthPrincipal } from '@corral/auth-client';
import { AppError } from '@corral/service-kit';
import type { Request } from 'express';

/** The authenticated caller; routes are only mounted behind requireAuth. */
export function principal(req: Request): AuthPrincipal {
  if (!req.auth) throw new AppError('unauthorized');
  return req.auth;
}

/** Usage is kept per API key too; access tokens (the web UI) count under no key. */
export const apiKeyIdOf = (p: AuthPrincipal): string | null => (p.kind === 'api_key' ? p.tokenId : null);
