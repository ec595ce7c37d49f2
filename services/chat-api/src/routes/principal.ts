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

const admissions = new WeakMap<Request, Promise<Caller>>();

/**
 * For a route that reads its conversation while the request is admitted (app.ts): the admission
 * in progress, awaited by the route before it acts; a refusal (429) reaches the client from there.
 */
export function bindAdmission(req: Request, admission: Promise<Caller>): void {
  admission.catch(() => undefined);
  admissions.set(req, admission);
}

/** The caller once admitted (see bindAdmission); afterwards `principal(req)` answers too. */
export function admitted(req: Request): Promise<Caller> {
  return admissions.get(req) ?? Promise.resolve(principal(req));
}

/** The authenticated user, before admission ends: only for reads that run alongside it. */
export function authenticatedUserId(req: Request): string {
  if (!req.auth) throw new AppError('unauthorized');
  return req.auth.userId;
}

/** The authenticated, admitted caller; routes are only mounted behind the guard that sets it. */
export function principal(req: Request): Caller {
  const caller = callers.get(req);
  if (!caller) throw new AppError('unauthorized');
  return caller;
}

/** Usage is kept per API key too; access tokens (the web UI) count under no key. */
export const apiKeyIdOf = (p: AuthPrincipal): string | null => (p.kind === 'api_key' ? p.tokenId : null);
