// Sign-in through a real OpenID Provider (oidc-provider) over HTTP, following redirects the way a
// browser does: Corral's login → the IdP's login and consent pages → Corral's callback.
import { ERROR_CATALOG, authPublicConfig, session, userGroups } from '@corral/contracts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcFlowSealer } from '../src/domain/oidc-flow.js';
import { dropSchema as dropTestSchema } from '@corral/test-support';
import { startAuth, type TestAuth } from './helpers.js';
import { OTHER_CLIENT_ID, startIdp, TestBrowser, type TestIdp } from '@corral/test-support/oidc-idp';

const ADMIN_GROUP = 'corral-admins';
/** Corral's address as browsers see it; TestBrowser maps it to the test's auth server. */
const CORRAL_PUBLIC_URL = 'http://corral.test';

function oidcEnv(idp: TestIdp, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLIC_URL: CORRAL_PUBLIC_URL,
    OIDC_ISSUER_URL: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_SCOPES: 'openid email profile groups',
    OIDC_ADMIN_GROUPS: ADMIN_GROUP,
    OIDC_BUTTON_LABEL: 'Sign in with Test IdP',
    DEFAULT_USER_STATUS: 'active',
    ...extra,
  };
}

const loginUrl = (returnTo = '/') =>
  `${CORRAL_PUBLIC_URL}/api/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`;

/** The session a signed-in browser gets from its refresh cookie, as the web app asks for it on load. */
async function sessionOf(auth: TestAuth, browser: TestBrowser) {
  const refresh = browser.cookie(CORRAL_PUBLIC_URL, 'corral_refresh');
  expect(refresh, 'the callback set the refresh cookie').toBeTruthy();
  const response = await fetch(`${auth.url}/api/auth/refresh`, {
    method: 'POST',
    headers: { cookie: `corral_refresh=${refresh}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(response.status).toBe(200);
  return session.parse(await response.json());
}

async function me(auth: TestAuth, accessToken: string) {
  const response = await fetch(`${auth.url}/api/auth/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return {
    status: response.status,
    body: (await response.json()) as { user?: { role: string; id: string } },
  };
}

const errorReason = (url: URL) => (url.pathname === '/login/error' ? url.searchParams.get('reason') : null);

async function auditActions(auth: TestAuth, action: string) {
  return auth.ctx.db.prisma.auditEvent.findMany({ where: { action }, orderBy: { id: 'asc' } });
}

describe('OIDC sign-in against a real OpenID Provider', () => {
  let idp: TestIdp;
  let auth: TestAuth;
  const browser = () => new TestBrowser({ publicUrl: CORRAL_PUBLIC_URL, corralUrl: auth.url });

  beforeAll(async () => {
    idp = await startIdp({ corralUrl: CORRAL_PUBLIC_URL });
    auth = await startAuth({ env: oidcEnv(idp) });
  });
  afterAll(async () => {
    await auth?.close();
    await idp?.close();
    if (auth) await dropTestSchema(auth.schema);
  });

  it('offers the IdP button in the public sign-in config', async () => {
    const response = await fetch(`${auth.url}/api/auth/config`);
    expect(authPublicConfig.parse(await response.json())).toEqual({
      passwordLogin: true,
      registration: 'open',
      oidc: {
        buttonLabel: 'Sign in with Test IdP',
        loginUrl: '/api/auth/oidc/login',
        logoutUrl: '/api/auth/oidc/logout',
      },
    });
  });

  it('sends the browser to the IdP with PKCE, state and nonce', async () => {
    const response = await browser().request(new URL(loginUrl()));
    expect(response.status).toBe(302);
    const target = new URL(response.headers.get('location') ?? '');
    expect(target.origin).toBe(idp.issuer);
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    expect(target.searchParams.get('state')).toBeTruthy();
    expect(target.searchParams.get('nonce')).toBeTruthy();
    expect(target.searchParams.get('redirect_uri')).toBe(`${CORRAL_PUBLIC_URL}/api/auth/oidc/callback`);
  });

  it('refuses a returnTo on another site (no open redirect)', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const response = await browser().request(new URL(loginUrl(returnTo)));
      expect(response.status).toBe(400);
    }
  });

  it('first sign-in creates the user, the second finds the same one', async () => {
    idp.accounts.set('alice-sub', { email: 'Alice@Corp.test', email_verified: true, name: 'Alice' });
    const first = browser();
    const landed = await first.signIn(loginUrl('/c/42?x=1'), 'alice-sub');
    expect(landed.toString()).toBe(`${CORRAL_PUBLIC_URL}/c/42?x=1`);
    const signedIn = await sessionOf(auth, first);
    expect(signedIn.user).toMatchObject({
      email: 'alice@corp.test',
      name: 'Alice',
      role: 'user',
      status: 'active',
    });
    expect((await me(auth, signedIn.accessToken)).body.user?.id).toBe(signedIn.user.id);

    const second = browser();
    await second.signIn(loginUrl(), 'alice-sub');
    expect((await sessionOf(auth, second)).user.id).toBe(signedIn.user.id);
    expect(await auth.ctx.db.prisma.user.count({ where: { email: 'alice@corp.test' } })).toBe(1);
    expect(await auth.ctx.db.prisma.userIdentity.count({ where: { subject: 'alice-sub' } })).toBe(1);
    const registered = await auditActions(auth, 'user.registered');
    expect(registered.filter((event) => event.targetId === signedIn.user.id)).toHaveLength(1);

    // An IdP-made account has no password: password sign-in answers as for a wrong one.
    const password = await fetch(`${auth.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@corp.test', password: 'not-a-real-password' }),
    });
    expect(password.status).toBe(401);
  });

  it('links a password account when the IdP has verified the email', async () => {
    const registered = await fetch(`${auth.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bob@corp.test', password: 'correct horse battery staple' }),
    });
    expect(registered.status).toBe(202);
    const account = await auth.ctx.db.prisma.user.findUniqueOrThrow({ where: { email: 'bob@corp.test' } });
    idp.accounts.set('bob-sub', { email: 'bob@corp.test', email_verified: true });
    const bob = browser();
    await bob.signIn(loginUrl(), 'bob-sub');
    expect((await sessionOf(auth, bob)).user.id).toBe(account.id);
    const linked = await auditActions(auth, 'user.oidc_linked');
    expect(linked.map((event) => event.targetId)).toContain(account.id);
  });

  it('does not link on an unverified email: the error page says so', async () => {
    await fetch(`${auth.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'carol@corp.test', password: 'correct horse battery staple' }),
    });
    idp.accounts.set('mallory-sub', { email: 'carol@corp.test', email_verified: false });
    const mallory = browser();
    const landed = await mallory.signIn(loginUrl(), 'mallory-sub');
    expect(errorReason(landed)).toBe('email_not_verified');
    expect(mallory.cookie(CORRAL_PUBLIC_URL, 'corral_refresh')).toBeUndefined();
    expect(await auth.ctx.db.prisma.userIdentity.count({ where: { subject: 'mallory-sub' } })).toBe(0);
    const refusals = await auditActions(auth, 'user.sign_in');
    expect(
      refusals.some(
        (event) =>
          event.outcome === 'failure' &&
          (event.details as { reason?: string } | null)?.reason === 'email_not_verified',
      ),
    ).toBe(true);
  });

  it('grants admin to the admin group and takes it back when the user leaves it', async () => {
    idp.accounts.set('dana-sub', {
      email: 'dana@corp.test',
      email_verified: true,
      groups: [ADMIN_GROUP, 'staff'],
    });
    const asAdmin = browser();
    await asAdmin.signIn(loginUrl(), 'dana-sub');
    const adminSession = await sessionOf(auth, asAdmin);
    expect(adminSession.user.role).toBe('admin');
    const users = await fetch(`${auth.url}/api/auth/admin/users`, {
      headers: { authorization: `Bearer ${adminSession.accessToken}` },
    });
    expect(users.status).toBe(200);

    idp.accounts.set('dana-sub', { email: 'dana@corp.test', email_verified: true, groups: ['staff'] });
    const again = browser();
    await again.signIn(loginUrl(), 'dana-sub');
    expect((await sessionOf(auth, again)).user.role).toBe('user');
    // The admin session from before no longer reaches admin routes.
    const denied = await fetch(`${auth.url}/api/auth/admin/users`, {
      headers: { authorization: `Bearer ${adminSession.accessToken}` },
    });
    expect([401, 403]).toContain(denied.status);
  });

  it('syncs groups from the claim: created and marked as synced, membership follows the claim', async () => {
    idp.accounts.set('gina-sub', { email: 'gina@corp.test', email_verified: true, groups: ['staff', 'eng'] });
    const first = browser();
    await first.signIn(loginUrl(), 'gina-sub');
    const { user } = await sessionOf(auth, first);
    const admin = (await fetch(`${auth.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@corral.test', password: 'admin-password-123' }),
    }).then((r) => r.json())) as { accessToken: string };
    const groupsOf = async () => {
      const response = await fetch(`${auth.url}/api/auth/admin/users/${user.id}/groups`, {
        headers: { authorization: `Bearer ${admin.accessToken}` },
      });
      expect(response.status).toBe(200);
      return userGroups.parse(await response.json()).items;
    };
    const initial = await groupsOf();
    expect(initial.map((group) => [group.name, group.source])).toEqual([
      ['eng', 'oidc'],
      ['staff', 'oidc'],
    ]);

    idp.accounts.set('gina-sub', { email: 'gina@corp.test', email_verified: true, groups: ['eng'] });
    await browser().signIn(loginUrl(), 'gina-sub');
    expect((await groupsOf()).map((group) => group.name)).toEqual(['eng']);
    const synced = await auditActions(auth, 'user.groups_synced');
    expect(synced.at(-1)?.details).toMatchObject({ joined: [], left: ['staff'] });
  });

  it('refuses a groups claim past the limit with the error page', async () => {
    const groups = Array.from({ length: 201 }, (_, i) => `g${i}`);
    idp.accounts.set('hank-sub', { email: 'hank@corp.test', email_verified: true, groups });
    expect(errorReason(await browser().signIn(loginUrl(), 'hank-sub'))).toBe('groups_claim_too_large');
  });

  it('refuses a disabled user at the IdP callback', async () => {
    idp.accounts.set('erin-sub', { email: 'erin@corp.test', email_verified: true });
    const first = browser();
    await first.signIn(loginUrl(), 'erin-sub');
    const { user } = await sessionOf(auth, first);
    await auth.ctx.db.prisma.user.update({ where: { id: user.id }, data: { status: 'disabled' } });
    const second = browser();
    expect(errorReason(await second.signIn(loginUrl(), 'erin-sub'))).toBe('account_disabled');
    expect(second.cookie(CORRAL_PUBLIC_URL, 'corral_refresh')).toBeUndefined();
  });

  it('refuses a tampered state', async () => {
    const tab = browser();
    const started = await tab.request(new URL(loginUrl()));
    expect(started.status).toBe(302);
    const callback = await tab.request(
      new URL(`${CORRAL_PUBLIC_URL}/api/auth/oidc/callback?code=abc&state=forged`),
    );
    expect(callback.status).toBe(302);
    expect(errorReason(new URL(callback.headers.get('location') ?? ''))).toBe('state_mismatch');
    // A malformed answer (the parameter twice) gets the page too, not a JSON problem.
    expect((await tab.request(new URL(loginUrl()))).status).toBe(302);
    const doubled = await tab.request(
      new URL(`${CORRAL_PUBLIC_URL}/api/auth/oidc/callback?code=abc&state=a&state=b`),
    );
    expect(doubled.status).toBe(302);
    expect(errorReason(new URL(doubled.headers.get('location') ?? ''))).toBe('state_mismatch');
  });

  it('two first sign-ins of one person at once make one account', async () => {
    idp.accounts.set('kim-sub', { email: 'kim@corp.test', email_verified: true });
    const tabs = [browser(), browser(), browser()];
    const landed = await Promise.all(tabs.map((tab) => tab.signIn(loginUrl(), 'kim-sub')));
    expect(landed.map((url) => url.pathname)).toEqual(['/', '/', '/']);
    const ids = await Promise.all(tabs.map(async (tab) => (await sessionOf(auth, tab)).user.id));
    expect(new Set(ids).size).toBe(1);
    expect(await auth.ctx.db.prisma.user.count({ where: { email: 'kim@corp.test' } })).toBe(1);
    expect(await auth.ctx.db.prisma.userIdentity.count({ where: { subject: 'kim-sub' } })).toBe(1);
  });

  it('refuses a callback without a flow, and an expired flow', async () => {
    const noFlow = await browser().request(
      new URL(`${CORRAL_PUBLIC_URL}/api/auth/oidc/callback?code=abc&state=s`),
    );
    expect(errorReason(new URL(noFlow.headers.get('location') ?? ''))).toBe('flow_expired');

    const expired = await new OidcFlowSealer(auth.config.SIGNING_KEY_SECRET, -60).seal({
      state: 'st',
      nonce: 'n',
      codeVerifier: 'v'.repeat(43),
      returnTo: '/',
    });
    const tab = browser();
    tab.setCookie(CORRAL_PUBLIC_URL, 'corral_oidc_flow', expired);
    const late = await tab.request(new URL(`${CORRAL_PUBLIC_URL}/api/auth/oidc/callback?code=abc&state=st`));
    expect(errorReason(new URL(late.headers.get('location') ?? ''))).toBe('flow_expired');
  });

  it('refuses a replayed authorization code', async () => {
    idp.accounts.set('frank-sub', { email: 'frank@corp.test', email_verified: true });
    const tab = browser();
    await tab.signIn(loginUrl(), 'frank-sub');
    const callbackUrl = tab.visited.find((url) => url.includes('/api/auth/oidc/callback'));
    const flow = tab.cookieLog.find((cookie) => cookie.name === 'corral_oidc_flow');
    expect(callbackUrl && flow).toBeTruthy();
    const attacker = browser();
    attacker.setCookie(CORRAL_PUBLIC_URL, 'corral_oidc_flow', flow?.value ?? '');
    const replay = await attacker.request(new URL(callbackUrl ?? ''));
    expect(replay.status).toBe(302);
    expect(errorReason(new URL(replay.headers.get('location') ?? ''))).toBe('idp_error');
    expect(attacker.cookie(CORRAL_PUBLIC_URL, 'corral_refresh')).toBeUndefined();
  });

  it('refuses an ID token whose nonce is not the one this sign-in sent', async () => {
    idp.accounts.set('ivy-sub', { email: 'ivy@corp.test', email_verified: true });
    const tab = browser();
    const started = await tab.request(new URL(loginUrl()));
    const sealer = new OidcFlowSealer(auth.config.SIGNING_KEY_SECRET, 600);
    const opened = await sealer.unseal(tab.cookie(CORRAL_PUBLIC_URL, 'corral_oidc_flow') ?? '');
    if (!opened.ok) throw new Error('the login set no readable flow cookie');
    // Same state and PKCE verifier, another nonce: only the ID token's nonce check can catch it.
    tab.setCookie(
      CORRAL_PUBLIC_URL,
      'corral_oidc_flow',
      await sealer.seal({ ...opened.flow, nonce: 'another-nonce' }),
    );
    const landed = await tab.signIn(started.headers.get('location') ?? '', 'ivy-sub');
    expect(errorReason(landed)).toBe('sign_in_failed');
    expect(tab.cookie(CORRAL_PUBLIC_URL, 'corral_refresh')).toBeUndefined();
    expect(await auth.ctx.db.prisma.user.count({ where: { email: 'ivy@corp.test' } })).toBe(0);
  });

  it('refuses a code (and ID token) issued to another application at the IdP', async () => {
    idp.accounts.set('jack-sub', { email: 'jack@corp.test', email_verified: true });
    const tab = browser();
    const started = await tab.request(new URL(loginUrl()));
    const forged = new URL(started.headers.get('location') ?? '');
    forged.searchParams.set('client_id', OTHER_CLIENT_ID);
    const landed = await tab.signIn(forged.toString(), 'jack-sub');
    expect(errorReason(landed)).toBe('idp_error');
    expect(tab.cookie(CORRAL_PUBLIC_URL, 'corral_refresh')).toBeUndefined();
    expect(await auth.ctx.db.prisma.user.count({ where: { email: 'jack@corp.test' } })).toBe(0);
  });

  it('ends the IdP session too (RP-initiated logout)', async () => {
    const response = await browser().request(new URL(`${CORRAL_PUBLIC_URL}/api/auth/oidc/logout`));
    expect(response.status).toBe(302);
    const target = new URL(response.headers.get('location') ?? '');
    expect(target.origin).toBe(idp.issuer);
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(`${CORRAL_PUBLIC_URL}/login`);
    expect(target.searchParams.get('client_id')).toBe(idp.clientId);
  });
});

describe('OIDC with allowed groups, approval, and password sign-in off', () => {
  let idp: TestIdp;
  let auth: TestAuth;
  const browser = () => new TestBrowser({ publicUrl: CORRAL_PUBLIC_URL, corralUrl: auth.url });

  beforeAll(async () => {
    idp = await startIdp({ corralUrl: CORRAL_PUBLIC_URL });
    auth = await startAuth({
      env: oidcEnv(idp, {
        OIDC_ALLOWED_GROUPS: 'staff, contractors',
        PASSWORD_LOGIN_ENABLED: 'false',
        DEFAULT_USER_STATUS: 'pending',
      }),
    });
  });
  afterAll(async () => {
    await auth?.close();
    await idp?.close();
    if (auth) await dropTestSchema(auth.schema);
  });

  it('refuses someone outside the allowed groups with the error page', async () => {
    idp.accounts.set('outsider', { email: 'out@corp.test', email_verified: true, groups: ['marketing'] });
    const tab = browser();
    expect(errorReason(await tab.signIn(loginUrl(), 'outsider'))).toBe('group_not_allowed');
    expect(await auth.ctx.db.prisma.user.count({ where: { email: 'out@corp.test' } })).toBe(0);
  });

  it('applies the approval policy to a first sign-in', async () => {
    idp.accounts.set('insider', { email: 'in@corp.test', email_verified: true, groups: ['contractors'] });
    expect(errorReason(await browser().signIn(loginUrl(), 'insider'))).toBe('account_pending');
    const user = await auth.ctx.db.prisma.user.findUniqueOrThrow({ where: { email: 'in@corp.test' } });
    expect(user.status).toBe('pending');
    await auth.ctx.db.prisma.user.update({ where: { id: user.id }, data: { status: 'active' } });
    const tab = browser();
    await tab.signIn(loginUrl(), 'insider');
    expect((await sessionOf(auth, tab)).user.id).toBe(user.id);
  });

  it('answers 403 password_login_disabled to password sign-in and registration', async () => {
    for (const [path, body] of [
      ['/api/auth/login', { email: 'admin@corral.test', password: 'admin-password-123' }],
      ['/api/auth/register', { email: 'new@corp.test', password: 'correct horse battery staple' }],
    ] as const) {
      const response = await fetch(`${auth.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(ERROR_CATALOG.password_login_disabled.status);
      expect(((await response.json()) as { code: string }).code).toBe('password_login_disabled');
    }
    const config = authPublicConfig.parse(await (await fetch(`${auth.url}/api/auth/config`)).json());
    expect(config.passwordLogin).toBe(false);
  });
});

describe('OIDC when the IdP cannot be reached', () => {
  let auth: TestAuth;

  beforeAll(async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    auth = await startAuth({
      env: {
        PUBLIC_URL: CORRAL_PUBLIC_URL,
        OIDC_ISSUER_URL: `http://127.0.0.1:${port}`,
        OIDC_CLIENT_ID: 'corral',
        OIDC_TIMEOUT_SECONDS: '5',
      },
    });
  });
  afterAll(async () => {
    await auth?.close();
    if (auth) await dropTestSchema(auth.schema);
  });

  it('lands on the error page saying so', async () => {
    const tab = new TestBrowser({ publicUrl: CORRAL_PUBLIC_URL, corralUrl: auth.url });
    const response = await tab.request(new URL(loginUrl()));
    expect(response.status).toBe(302);
    expect(errorReason(new URL(response.headers.get('location') ?? ''))).toBe('idp_unreachable');
    const refusals = await auditActions(auth, 'user.sign_in');
    expect(refusals.map((event) => (event.details as { reason?: string } | null)?.reason)).toContain(
      'idp_unreachable',
    );
  });
});
