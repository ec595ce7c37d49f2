import { AppError, setRequestUser } from '@corral/service-kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthContext } from '../context.js';
import { API_KEY_PREFIX, findUsableApiKey } from '../domain/api-keys.js';
import type { ApiKey } from '../data/api-keys.js';
import { findUserById, type User } from '../data/users.js';
import type { ApiKeyScope } from '../domain/key-scopes.js';
import { accessTokenRevoked } from '../domain/revocation.js';

export interface Principal {
  user: User;
  via: 'access_token' | 'api_key';
  /** The API key presented (api_key only): its scopes decide what it may do here. */
  key?: ApiKey;
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
    let found: Principal;
    if (token.startsWith(API_KEY_PREFIX)) {
      const usable = await findUsableApiKey(ctx, token);
      if (!usable) throw new AppError('invalid_token', 'The API key is invalid, expired or revoked.');
      user = usable.user;
      found = { user, via: 'api_key', key: usable.key };
    } else {
      const claims = await ctx.accessTokens.verify(token);
      user = await findUserById(ctx.db, claims.sub);
      if (user && (await accessTokenRevoked(ctx, user, claims))) {
        throw new AppError('invalid_token', 'This session has ended; sign in again.');
      }
      found = { user: user as User, via: 'access_token' };
    }
    if (!user || user.status !== 'active') {
      throw new AppError('invalid_token', 'The account behind this token is not active.');
    }
    res.locals.principal = found;
    setRequestUser(user.id);
    next();
  };
}

/**
 * A session (access token) passes; an API key only if it carries `scope`. Managing keys, admin
 * routes and account changes sit behind this, so an inference key cannot widen itself.
 */
export const requireScope =
  (scope: ApiKeyScope): RequestHandler =>
  (_req, res, next) => {
    const { via, key } = principal(res);
    if (via === 'api_key' && !key?.scopes.includes(scope)) {
      throw new AppError(
        'forbidden',
        `This needs a signed-in session, or an API key with the "${scope}" scope.`,
        {
          headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
        },
      );
    }
    next();
  };

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (principal(res).user.role !== 'admin') throw new AppError('forbidden', 'This needs the admin role.');
  next();
};

export const principal = (res: Response): Principal => res.locals.principal as Principal;

export const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
