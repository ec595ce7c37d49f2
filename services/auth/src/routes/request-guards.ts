import { AppError } from '@corral/service-kit';
import type { Request, RequestHandler } from 'express';

const JSON_TYPES = ['application/json', 'application/*+json'];

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
const isJson = (req: Request) => req.headers['content-type'] !== undefined && req.is(JSON_TYPES) !== false;

/**
 * 415 for a request that sends a body (or names a content type) other than JSON: such a body was
 * silently ignored before, and an HTML form (the cross-site kind) can only send form types.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const declared = req.headers['content-type'] !== undefined;
  if ((declared || hasBody(req)) && !isJson(req)) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json.');
  }
  next();
};

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
