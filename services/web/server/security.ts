import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Strict headers for every answer: a CSP with no inline scripts and no framing, no referrer
 * leaks, and HSTS only over TLS (directly or per a trusted proxy's X-Forwarded-Proto), since
 * HSTS sent over plain http would be ignored at best and pin a dev host at worst.
 */
export function securityHeaders(hstsMaxAgeSeconds: number): RequestHandler[] {
  const hsts = helmet.strictTransportSecurity({ maxAge: hstsMaxAgeSeconds, includeSubDomains: true });
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          // blob: for attached images, which the app fetches with its token and shows from object URLs.
          imgSrc: ["'self'", 'data:', 'blob:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          manifestSrc: ["'self'"],
          workerSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
    (req, res, next) => {
      res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
      if (req.secure) return hsts(req, res, next);
      next();
    },
  ];
}
