import { AppError } from '@corral/service-kit';
import type { Request, RequestHandler } from 'express';

const JSON_TYPES = ['application/json', 'application/*+json'];

const isJson = (req: Request) => req.headers['content-type'] !== undefined && req.is(JSON_TYPES) !== false;

/**
 * Refresh and sign-out act on a cookie, so a cross-site page must not be able to trigger them:
 * allowed are a JSON body (needs CORS), a same-origin fetch (Sec-Fetch-Site), an Origin equal to
 * ours, or a client that is no browser (sends neither header).
 */
export function requireSameOrigin(publicUrl: string | undefined): RequestHandler {
  const configured = publicUrl ? new URL(publicUrl).origin : undefined;
  return (req, _res, next) => {
    if (isJson(req)) return next();
    const site = req.get('sec-fetch-site');
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none') return next();
      throw crossSite();
    }
    const origin = req.get('origin');
    if (origin === undefined || origin === configured || origin === ownOrigin(req)) return next();
    throw crossSite();
  };
}

const ownOrigin = (req: Request) => `${req.protocol}://${req.get('host') ?? ''}`;

const crossSite = () =>
  new AppError('forbidden', 'Refresh and sign-out are accepted from this site only (or with a JSON body).');
