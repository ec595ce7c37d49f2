import { AppError, setRequestUser } from '@corral/service-kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthContext } from '../context.js';
import { API_KEY_PREFIX, findUsableApiKey } from '../domain/api-keys.js';
import { findUserById, type User } from '../data/users.js';

export interface Principal {
  user: User;
  via: 'access_token' | 'api_key';
}

export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Accepts an access token (verified against our own published keys) or an API key. The user is
 * re-read from the database so a disabled account or a changed role takes effect immediately here.
 */
export function requireUser(ctx: AuthContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (!token) throw new AppError('unauthorized', 'Send Authorization: Bearer <access token or API key>.');
    let user: User | null;
    let via: Principal['via'];
    if (token.startsWith(API_KEY_PREFIX)) {
      user = (await findUsableApiKey(ctx, token))?.user ?? null;
      via = 'api_key';
      if (!user) throw new AppError('invalid_token', 'The API key is invalid, expired or revoked.');
    } else {
      const claims = await ctx.accessTokens.verify(token);
      user = await findUserById(ctx.db, claims.sub);
      via = 'access_token';
    }
    if (!user || user.status !== 'active') {
      throw new AppError('invalid_token', 'The account behind this token is not active.');
    }
    res.locals.principal = { user, via } satisfies Principal;
    setRequestUser(user.id);
    next();
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (principal(res).user.role !== 'admin') throw new AppError('forbidden', 'This needs the admin role.');
  next();
};

export const principal = (res: Response): Principal => res.locals.principal as Principal;

export const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
