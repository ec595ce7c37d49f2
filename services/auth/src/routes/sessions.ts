import { AppError, parseInput } from '@corral/service-kit';
import { Router, type CookieOptions, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import { changeOwnPassword } from '../domain/password-change.js';
import { refreshSession, signIn, signOut, type IssuedSession } from '../domain/sessions.js';
import { MAX_PASSWORD_LENGTH, passwordProblem } from '../domain/password-policy.js';
import { REGISTRATION_ANSWER, registerUser, toPublicUser } from '../domain/users.js';
import { clientIp, principal, requireUser } from './authenticate.js';
import { requireSameOrigin } from './request-guards.js';

export const REFRESH_COOKIE = 'corral_refresh';
const COOKIE_PATH = '/api/auth';

const email = z.email().max(254);
/** A new password: at least 12 characters, not repetitive, not on the common-password list. */
export const passwordSchema = z
  .string()
  .max(MAX_PASSWORD_LENGTH * 4)
  .superRefine((password, check) => {
    const problem = passwordProblem(password);
    if (problem) check.addIssue({ code: 'custom', message: problem });
  });

const registerBody = z.object({
  email,
  password: passwordSchema,
  name: z.string().trim().min(1).max(200).optional(),
  registrationCode: z.string().max(256).optional(),
});
const loginBody = z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) });
const refreshBody = z.object({ refreshToken: z.string().min(1).max(512).optional() }).optional();
const passwordChangeBody = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: passwordSchema,
});

/** Register, sign in, refresh, sign out and who-am-I, under /api/auth. */
export function sessionRoutes(ctx: AuthContext): Router {
  const router = Router();
  const cookieOptions = refreshCookieOptions(ctx);

  const sendSession = (res: Response, session: IssuedSession) => {
    setRefreshCookie(ctx, res, session).set('Cache-Control', 'no-store').json(session);
  };

  const passwordLoginEnabled = () => {
    if (!ctx.config.PASSWORD_LOGIN_ENABLED) {
      throw new AppError(
        'password_login_disabled',
        'Password sign-in and registration are turned off: sign in through your company’s identity provider.',
      );
    }
  };

  router.post('/register', async (req, res) => {
    passwordLoginEnabled();
    const body = parseInput(registerBody, req.body);
    await registerUser(ctx, body, clientIp(req));
    res.status(202).set('Cache-Control', 'no-store').json(REGISTRATION_ANSWER);
  });

  router.post('/login', async (req, res) => {
    passwordLoginEnabled();
    const body = parseInput(loginBody, req.body);
    sendSession(res, await signIn(ctx, body, clientIp(req)));
  });

  const sameOrigin = requireSameOrigin(ctx.config.PUBLIC_URL);

  router.post('/refresh', sameOrigin, async (req, res) => {
    const token = presentedRefreshToken(req);
    if (!token)
      throw new AppError('unauthorized', 'Send the refresh token in the cookie or as {"refreshToken"}.');
    try {
      sendSession(res, await refreshSession(ctx, token, clientIp(req)));
    } catch (error) {
      res.clearCookie(REFRESH_COOKIE, cookieOptions);
      throw error;
    }
  });

  router.post('/logout', sameOrigin, async (req, res) => {
    const token = presentedRefreshToken(req);
    if (token) await signOut(ctx, token, clientIp(req));
    res.clearCookie(REFRESH_COOKIE, cookieOptions).status(204).end();
  });

  // Self-service: every other session ends; the caller gets a new one (cookie and body, as at login).
  router.post('/password', requireUser(ctx), async (req, res) => {
    const { user, via } = principal(res);
    if (via !== 'access_token') {
      throw new AppError('forbidden', 'Change your password while signed in, not with an API key.');
    }
    const body = parseInput(passwordChangeBody, req.body);
    sendSession(res, await changeOwnPassword(ctx, user, body, clientIp(req)));
  });

  router.get('/me', requireUser(ctx), (_req, res) => {
    const { user, via } = principal(res);
    res.set('Cache-Control', 'no-store').json({ user: toPublicUser(user), via });
  });

  return router;
}

export const refreshCookieOptions = (ctx: AuthContext): CookieOptions => ({
  httpOnly: true,
  secure: ctx.config.COOKIE_SECURE,
  sameSite: 'strict',
  path: COOKIE_PATH,
});

/** The session's refresh token as the HttpOnly cookie the web app refreshes with. */
export function setRefreshCookie(ctx: AuthContext, res: Response, session: IssuedSession): Response {
  return res.cookie(REFRESH_COOKIE, session.refreshToken, {
    ...refreshCookieOptions(ctx),
    maxAge: session.refreshExpiresIn * 1000,
  });
}

function presentedRefreshToken(req: Request): string | undefined {
  const body = parseInput(refreshBody, req.body ?? undefined);
  const cookies = req.cookies as Record<string, string | undefined> | undefined;
  return body?.refreshToken ?? cookies?.[REFRESH_COOKIE];
}
