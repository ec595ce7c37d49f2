import type { AuthPrincipal } from '@corral/auth-client';
import { AppError } from '@corral/service-kit';
import type { Request } from 'express';
import type { Caller } from '../domain/admission.js';

/** Each request's caller, as admitted (with the limits resolved for it): dropped with the request. */
const callers = new WeakMap<Request, Caller>();

/** Set once per request by the guard that admits it (app.ts). */
export function bindCaller(req: Request, caller: Caller): void {
  callers.set(req, caller);
}

/** The authenticated, admitted caller; routes are only mounted behind the guard that sets it. */
export function principal(req: Request): Caller {
  const caller = callers.get(req);
  if (!caller) throw new AppError('unauthorized');
  return caller;
}

/** Usage is kept per API key too; access tokens (the web UI) count under no key. */
export const apiKeyIdOf = (p: AuthPrincipal): string | null => (p.kind === 'api_key' ? p.tokenId : null);
