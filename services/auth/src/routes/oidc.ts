import { type AuthPublicConfig, type OidcErrorReason } from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import { randomUUID } from 'node:crypto';
import { type CookieOptions, type Response, Router } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import { accountForIdentity, OidcRefusal } from '../domain/oidc-accounts.js';
import { OidcFailure, OidcRelyingParty } from '../domain/oidc-client.js';
import { OidcFlowSealer, sameOriginPath } from '../domain/oidc-flow.js';
import { issueSession } from '../domain/sessions.js';
import { clientIp } from './authenticate.js';
import { setRefreshCookie } from './sessions.js';

export const OIDC_FLOW_COOKIE = 'corral_oidc_flow';
const FLOW_COOKIE_PATH = '/api/auth/oidc';
const LOGIN_PATH = '/api/auth/oidc/login';
const LOGOUT_PATH = '/api/auth/oidc/logout';
/** The web app's page that explains a failed IdP sign-in (`?reason=`). */
export const SIGN_IN_ERROR_PATH = '/login/error';
const SIGNED_OUT_PATH = '/login';

const loginQuery = z.object({
  returnTo: z.string().max(2048).optional(),
  registrationCode: z.string().max(256).optional(),
});
const callbackQuery = z.object({
  state: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
});

/** `GET /api/auth/config`: what the sign-in page offers. Public: nothing in it is a secret. */
export function publicConfigRoutes(ctx: AuthContext): Router {
  const router = Router();
  const { config } = ctx;
  const answer: AuthPublicConfig = {
    passwordLogin: config.PASSWORD_LOGIN_ENABLED,
    registration: !config.ENABLE_REGISTRATION ? 'closed' : config.REQUIRE_REGISTRATION_CODE ? 'code' : 'open',
    oidc: config.OIDC_ISSUER_URL
      ? { buttonLabel: config.OIDC_BUTTON_LABEL, loginUrl: LOGIN_PATH, logoutUrl: LOGOUT_PATH }
      : null,
  };
  router.get('/config', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(answer);
  });
  return router;
}

/**
 * Sign-in through the company's identity provider: `login` sends the browser there with PKCE,
 * state and nonce (sealed in a short-lived cookie), `callback` checks the answer and ends in the
 * same session a password sign-in gets. A failure the user can act on lands on the web app's error
 * page with its reason, never on a stack trace or JSON.
 */
export function oidcRoutes(ctx: AuthContext): Router {
  const router = Router();
  const { config } = ctx;
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
  const errorPage = (res: Response, reason: OidcErrorReason) =>
    res.set('Cache-Control', 'no-store').redirect(302, `${base}${SIGN_IN_ERROR_PATH}?reason=${reason}`);

  if (!config.OIDC_ISSUER_URL || !config.OIDC_CLIENT_ID || !config.PUBLIC_URL) {
    router.get(['/login', '/callback', '/logout'], (_req, res) => errorPage(res, 'not_configured'));
    return router;
  }
  const rp = new OidcRelyingParty(
    {
      ...config,
      OIDC_ISSUER_URL: config.OIDC_ISSUER_URL,
      OIDC_CLIENT_ID: config.OIDC_CLIENT_ID,
      PUBLIC_URL: config.PUBLIC_URL,
    },
    ctx.logger,
  );
  const sealer = new OidcFlowSealer(config.SIGNING_KEY_SECRET, config.OIDC_FLOW_TTL_SECONDS);
  const publicUrl = config.PUBLIC_URL;
  const flowCookie: CookieOptions = {
    httpOnly: true,
    secure: config.COOKIE_SECURE,
    // Lax: the IdP's redirect back is a top-level navigation from another site.
    sameSite: 'lax',
    path: FLOW_COOKIE_PATH,
  };

  const auditFailure = (ip: string, reason: OidcErrorReason, detail?: string) => {
    ctx.metrics.signIns.inc({ outcome: `oidc_${reason}` });
    return ctx.audit.record({
      action: 'user.sign_in',
      outcome: 'failure',
      ip,
      details: { via: 'oidc', issuer: rp.issuerUrl, reason, ...(detail ? { detail } : {}) },
    });
  };

  router.get('/login', async (req, res) => {
    const query = parseInput(loginQuery, req.query);
    const returnTo = sameOriginPath(query.returnTo, publicUrl);
    if (!returnTo) throw new AppError('validation_failed', 'returnTo must be a path on this site.');
    let started: Awaited<ReturnType<OidcRelyingParty['startSignIn']>>;
    try {
      started = await rp.startSignIn(returnTo, query.registrationCode);
    } catch (error) {
      if (!(error instanceof OidcFailure)) throw error;
      await auditFailure(clientIp(req), error.reason);
      return errorPage(res, error.reason);
    }
    // The cookie outlives the flow by an hour so a late callback reads "expired", not "missing".
    res.cookie(OIDC_FLOW_COOKIE, await sealer.seal(started.flow), {
      ...flowCookie,
      maxAge: (config.OIDC_FLOW_TTL_SECONDS + 3600) * 1000,
    });
    return res.set('Cache-Control', 'no-store').redirect(302, started.url.toString());
  });

  router.get('/callback', async (req, res) => {
    const ip = clientIp(req);
    // A browser lands here: a malformed answer gets the error page, not a JSON problem.
    const parsed = callbackQuery.safeParse(req.query);
    const query = parsed.success ? parsed.data : { state: undefined, error: undefined };
    const cookies = req.cookies as Record<string, string | undefined> | undefined;
    const sealed = cookies?.[OIDC_FLOW_COOKIE];
    res.clearCookie(OIDC_FLOW_COOKIE, flowCookie);
    const opened = sealed ? await sealer.unseal(sealed) : ({ ok: false, reason: 'expired' } as const);
    if (!opened.ok) {
      const reason = opened.reason === 'expired' ? 'flow_expired' : 'state_mismatch';
      await auditFailure(ip, reason);
      return errorPage(res, reason);
    }
    const { flow } = opened;
    if (query.state !== flow.state) {
      await auditFailure(ip, 'state_mismatch');
      return errorPage(res, 'state_mismatch');
    }
    if (query.error) {
      await auditFailure(ip, 'idp_error', query.error);
      return errorPage(res, 'idp_error');
    }
    try {
      // The registered redirect URI with the IdP's answer: the code exchange names it exactly.
      const current = new URL(rp.redirectUri);
      current.search = new URL(req.originalUrl, current).search;
      const claims = await rp.finishSignIn(current, flow);
      const user = await accountForIdentity(ctx, claims, ip, flow.registrationCode);
      const session = await issueSession(ctx, user, randomUUID());
      setRefreshCookie(ctx, res, session);
      return res.set('Cache-Control', 'no-store').redirect(302, `${base}${flow.returnTo}`);
    } catch (error) {
      if (error instanceof OidcRefusal) return errorPage(res, error.reason);
      if (error instanceof OidcFailure) {
        await auditFailure(ip, error.reason, error.message);
        return errorPage(res, error.reason);
      }
      throw error;
    }
  });

  // RP-initiated logout: the web app has ended Corral's session (POST /logout) and comes here to
  // end the IdP's too, when the IdP offers it; otherwise straight back to the sign-in page.
  router.get('/logout', async (_req, res) => {
    const back = `${base}${SIGNED_OUT_PATH}`;
    let target: string = back;
    try {
      target = (await rp.endSessionUrl(back))?.toString() ?? back;
    } catch (error) {
      if (!(error instanceof OidcFailure)) throw error;
    }
    res.set('Cache-Control', 'no-store').redirect(302, target);
  });

  return router;
}
