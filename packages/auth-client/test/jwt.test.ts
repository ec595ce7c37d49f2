import { exportJWK, exportSPKI, SignJWT } from 'jose';
import request, { type Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type SigningKey,
  base64url,
  buildHarness,
  makeSigningKey,
  signAccessToken,
  startJwksServer,
  unusedUrl,
} from './helpers.js';

const PROBLEM_JSON = /^application\/problem\+json/;
const MINUTE = 60_000;

let current: SigningKey;
let next: SigningKey;
let stranger: SigningKey;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;

beforeAll(async () => {
  [current, next, stranger] = await Promise.all([
    makeSigningKey('key-current'),
    makeSigningKey('key-next'),
    makeSigningKey('key-stranger'),
  ]);
  jwks = await startJwksServer([current.jwk]);
});

afterAll(async () => {
  await jwks.close();
});

afterEach(() => {
  vi.useRealTimers();
  jwks.setKeys([current.jwk]);
  jwks.failWith(undefined);
});

const me = (harness: ReturnType<typeof buildHarness>, token: string) =>
  request(harness.app).get('/api/me').set('Authorization', `Bearer ${token}`);

/** Every refused token looks the same to the caller: 401, problem+json, a Bearer challenge, no internals. */
function expectInvalidToken(res: Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  expect(res.body).toMatchObject({
    code: 'invalid_token',
    type: 'urn:corral:error:invalid_token',
    status: 401,
  });
  expect(res.body.detail).not.toMatch(/jws|jwk|kid|signature|alg|claim|jose/i);
}

/** Fakes only `Date`, which jose reads for token times and JWKS cache ages; timers stay real. */
function freezeClock(): (advanceMs: number) => void {
  vi.useFakeTimers({ toFake: ['Date'] });
  const start = Date.now();
  let elapsed = 0;
  return (advanceMs) => {
    elapsed += advanceMs;
    vi.setSystemTime(start + elapsed);
  };
}

describe('access tokens: happy path', () => {
  it('accepts a valid token and exposes the principal on req.auth and res.locals.auth', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const token = await signAccessToken(current, { sub: 'user-42', jti: 'jti-1' });
    const res = await me(harness, token).expect(200);
    const expected = {
      kind: 'jwt',
      userId: 'user-42',
      email: 'ada@example.com',
      role: 'user',
      tokenId: 'jti-1',
      models: null,
      scopes: ['inference', 'keys', 'account', 'admin'],
      issuedAt: expect.any(Number),
    };
    expect(res.body.auth).toEqual(expected);
    expect(res.body.locals).toEqual(expected);
  });

  it('tags the request log line with the user id', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    await me(harness, await signAccessToken(current, { sub: 'user-log' })).expect(200);
    const line = harness.logLines().find((l) => l.message === 'request' && l.path === '/api/me');
    expect(line).toMatchObject({ userId: 'user-log', status: 200 });
  });

  it('lets an admin through requireRole("admin") and forbids a user with 403', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const admin = await signAccessToken(current, { sub: 'boss', role: 'admin' });
    const user = await signAccessToken(current, { sub: 'pleb', role: 'user' });
    const allowed = await request(harness.app).get('/api/admin').set('Authorization', `Bearer ${admin}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ userId: 'boss' });
    const denied = await request(harness.app).get('/api/admin').set('Authorization', `Bearer ${user}`);
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(denied.body).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('accepts a token within the clock tolerance', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url, clockToleranceSec: 5 });
    const now = Math.floor(Date.now() / 1000);
    await me(harness, await signAccessToken(current, { iat: now - 900, exp: now - 2 })).expect(200);
  });

  it('with accessTokenCacheMs, reuses a verified token within that time and never past its exp', async () => {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url, accessTokenCacheMs: MINUTE, clockToleranceSec: 0 });
    const now = Math.floor(Date.now() / 1000);
    const token = await signAccessToken(current, { sub: 'user-7', jti: 'jti-7', exp: now + 30 });
    const first = await me(harness, token).expect(200);
    const second = await me(harness, token).expect(200);
    expect(second.body.auth).toEqual(first.body.auth);
    expect(second.body.auth).toMatchObject({ kind: 'jwt', userId: 'user-7', tokenId: 'jti-7' });
    advance(31_000);
    const expired = await me(harness, token);
    expectInvalidToken(expired);
    expect(expired.body.detail).toMatch(/expired/);
  });

  it('with accessTokenCacheMs, refuses a token signed by a removed key once both caches age out', async () => {
    const advance = freezeClock();
    const harness = buildHarness({
      jwksUrl: jwks.url,
      jwksCacheMaxAgeMs: 10 * MINUTE,
      accessTokenCacheMs: MINUTE,
    });
    const token = await signAccessToken(current);
    await me(harness, token).expect(200);
    jwks.setKeys([next.jwk]);
    advance(11 * MINUTE);
    expectInvalidToken(await me(harness, token));
  });

  it('authenticate() answers an Authorization header as requireAuth does, for routes without express', async () => {
    const { authenticator } = buildHarness({ jwksUrl: jwks.url });
    const token = await signAccessToken(current, { sub: 'user-9', jti: 'jti-9' });
    await expect(authenticator.authenticate(`Bearer ${token}`)).resolves.toMatchObject({
      kind: 'jwt',
      userId: 'user-9',
      tokenId: 'jti-9',
    });
    await expect(authenticator.authenticate(undefined)).rejects.toMatchObject({ status: 401 });
    await expect(authenticator.authenticate('Basic abc')).rejects.toMatchObject({ status: 401 });
    await expect(authenticator.authenticate('Bearer not.a.token')).rejects.toMatchObject({
      code: 'invalid_token',
    });
  });

  it('still verifies tokens from the old key after auth adds a new one (rotation)', async () => {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url });
    const oldToken = await signAccessToken(current);
    await me(harness, oldToken).expect(200);
    jwks.setKeys([current.jwk, next.jwk]);
    advance(31_000); // past the unknown-kid cooldown
    await me(harness, await signAccessToken(next)).expect(200);
    await me(harness, oldToken).expect(200);
    await me(harness, await signAccessToken(current)).expect(200);
    expect(jwks.fetches).toBeGreaterThan(0);
  });
});

describe('access tokens: refused', () => {
  it('answers a request without Authorization with 401 and a Bearer challenge', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const res = await request(harness.app).get('/api/me');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(res.body.requestId).toEqual(expect.any(String));
  });

  it('answers a malformed Authorization header with 401 unauthorized', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two tokens', 'Bearer\tx']) {
      const res = await request(harness.app).get('/api/me').set('Authorization', header);
      expect(res.status, header).toBe(401);
      expect(res.body.code, header).toBe('unauthorized');
      expect(res.headers['www-authenticate'], header).toMatch(/^Bearer/);
    }
  });

  it('refuses a bearer value that is neither a JWT nor an API key', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    expectInvalidToken(await me(harness, 'not-a-token'));
    expectInvalidToken(await me(harness, 'a.b.c'));
  });

  it('refuses an expired token, saying it expired', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const now = Math.floor(Date.now() / 1000);
    const res = await me(harness, await signAccessToken(current, { iat: now - 3600, exp: now - 600 }));
    expectInvalidToken(res);
    expect(res.body.detail).toMatch(/expired/);
  });

  it('refuses a token from another issuer', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    expectInvalidToken(await me(harness, await signAccessToken(current, { iss: 'https://evil.test' })));
  });

  it('refuses a token for another audience', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    expectInvalidToken(await me(harness, await signAccessToken(current, { aud: 'some-other-service' })));
  });

  it('refuses a token missing a required claim or with an unknown role', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    for (const claim of ['sub', 'role', 'exp', 'iat', 'jti'] as const) {
      expectInvalidToken(await me(harness, await signAccessToken(current, { [claim]: undefined })));
    }
    expectInvalidToken(await me(harness, await signAccessToken(current, { role: 'superuser' })));
  });

  it('refuses an unsigned alg:none token', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const valid = await signAccessToken(current, { role: 'admin' });
    const payload = valid.split('.')[1];
    for (const header of [{ alg: 'none' }, { alg: 'none', kid: current.kid }, { alg: 'None', typ: 'JWT' }]) {
      expectInvalidToken(await me(harness, `${base64url(JSON.stringify(header))}.${payload}.`));
    }
  });

  it('refuses an HS256 token keyed with the public key (algorithm confusion)', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'https://corral.test/auth', aud: 'corral-api', sub: 'attacker', role: 'admin' };
    const secrets = [
      new TextEncoder().encode(await exportSPKI(current.publicKey)),
      new TextEncoder().encode(JSON.stringify(current.jwk)),
      new TextEncoder().encode(JSON.stringify(await exportJWK(current.publicKey))),
    ];
    for (const secret of secrets) {
      const forged = await new SignJWT({ ...claims, jti: 'forged', iat: now, exp: now + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: current.kid })
        .sign(secret);
      expectInvalidToken(await me(harness, forged));
    }
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const [header, payload, signature] = (await signAccessToken(current, { role: 'user' })).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as object;
    const tampered = base64url(JSON.stringify({ ...claims, role: 'admin' }));
    expectInvalidToken(await me(harness, `${header}.${tampered}.${signature}`));
  });

  it('refuses a token whose signature belongs to another key under a known kid', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const impostor = { ...stranger, kid: current.kid };
    expectInvalidToken(await me(harness, await signAccessToken(impostor, { role: 'admin' })));
  });

  it('refuses a token without a kid', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: 'u', role: 'user', jti: 'j', iat: now, exp: now + 60 })
      .setIssuer('https://corral.test/auth')
      .setAudience('corral-api')
      .setProtectedHeader({ alg: 'RS256' })
      .sign(current.privateKey);
    expectInvalidToken(await me(harness, token));
  });

  it('refetches the JWKS once for an unknown kid, and not again within the cooldown', async () => {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url });
    await me(harness, await signAccessToken(current)).expect(200);
    const fetchesAfterFirstLoad = jwks.fetches;
    advance(31_000); // past jose's 30 s cooldown since that load
    expectInvalidToken(await me(harness, await signAccessToken(stranger)));
    expect(jwks.fetches).toBe(fetchesAfterFirstLoad + 1);
    // Issued before that refetch, another unknown kid cannot be a newer key: nothing is fetched.
    const anotherUnknown = { ...stranger, kid: 'key-unknown-2' };
    const before = Math.floor(Date.now() / 1000) - 2;
    for (let i = 0; i < 5; i += 1) {
      expectInvalidToken(await me(harness, await signAccessToken(anotherUnknown, { iat: before })));
    }
    expect(jwks.fetches).toBe(fetchesAfterFirstLoad + 1);
  });

  /**
   * A verifier that loaded the set with `current`, then saw two rotations `gapMs` apart, both well
   * within jose's 30 s cooldown: `next`'s token verified (one refetch), `third` just published.
   */
  async function secondRotation(gapMs: number) {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url });
    await me(harness, await signAccessToken(current)).expect(200);
    const first = jwks.fetches;
    const third = await makeSigningKey('key-third');
    jwks.setKeys([current.jwk, next.jwk]);
    advance(gapMs);
    await me(harness, await signAccessToken(next)).expect(200);
    expect(jwks.fetches).toBe(first + 1);
    jwks.setKeys([current.jwk, next.jwk, third.jwk]);
    advance(gapMs);
    return { harness, first, third };
  }

  it('verifies tokens of two rotations within one second, with at most one refetch a second', async () => {
    // The second rotation's tokens have the last refetch's second as iat (whole seconds). Ten of
    // them at once wait for one shared refetch, a second after the last.
    const { harness, first, third } = await secondRotation(100);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => signAccessToken(third)));
    const answers = await Promise.all(tokens.map((token) => me(harness, token)));
    expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
    expect(jwks.fetches).toBe(first + 2);
  });

  it('refetches at once, within the cooldown, for a token issued after the last refetch (a second rotation)', async () => {
    const { harness, first, third } = await secondRotation(3000);
    await me(harness, await signAccessToken(third)).expect(200);
    expect(jwks.fetches).toBe(first + 2);
    // A forged token dated in the future, or an old one with an unknown kid, refetches nothing.
    const future = Math.floor(Date.now() / 1000) + 3600;
    expectInvalidToken(await me(harness, await signAccessToken(stranger, { iat: future, exp: future + 60 })));
    expectInvalidToken(
      await me(harness, await signAccessToken(stranger, { iat: Math.floor(Date.now() / 1000) - 60 })),
    );
    expect(jwks.fetches).toBe(first + 2);
  });

  it('refuses a token signed by a key auth removed from the JWKS, once the cached set ages out', async () => {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url, jwksCacheMaxAgeMs: 10 * MINUTE });
    await me(harness, await signAccessToken(current)).expect(200);
    jwks.setKeys([next.jwk]);
    advance(11 * MINUTE);
    expectInvalidToken(await me(harness, await signAccessToken(current)));
    await me(harness, await signAccessToken(next)).expect(200);
  });

  it('sends 401 from requireRole when nobody authenticated', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const res = await request(harness.app).get('/api/unguarded-admin');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });
});

describe('optionalAuth', () => {
  it('lets anonymous requests through, authenticates good tokens and refuses bad ones', async () => {
    const harness = buildHarness({ jwksUrl: jwks.url });
    const anonymous = await request(harness.app).get('/api/optional').expect(200);
    expect(anonymous.body).toEqual({ auth: null });
    const token = await signAccessToken(current, { sub: 'user-7' });
    const signedIn = await request(harness.app)
      .get('/api/optional')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(signedIn.body.auth).toMatchObject({ kind: 'jwt', userId: 'user-7' });
    const bad = await request(harness.app).get('/api/optional').set('Authorization', 'Bearer x.y.z');
    expectInvalidToken(bad);
  });
});

describe('JWKS unavailable', () => {
  it('answers 503 when the JWKS cannot be fetched and no key is cached', async () => {
    const down = buildHarness({ jwksUrl: await unusedUrl('/.well-known/jwks.json') });
    const token = await signAccessToken(current);
    const res = await me(down, token);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ code: 'service_unavailable' });
    expect(res.body.detail).toMatch(/auth service unreachable/);

    jwks.failWith(500);
    const broken = buildHarness({ jwksUrl: jwks.url });
    expect((await me(broken, token)).status).toBe(503);
  });

  it('keeps verifying with the keys it has when a refresh fails, without hammering auth', async () => {
    const advance = freezeClock();
    const harness = buildHarness({ jwksUrl: jwks.url });
    await me(harness, await signAccessToken(current)).expect(200);
    const fetchesBefore = jwks.fetches;
    jwks.failWith(503);
    advance(11 * MINUTE); // the cached set is stale and must be refreshed
    await me(harness, await signAccessToken(current)).expect(200);
    await me(harness, await signAccessToken(current)).expect(200);
    expect(jwks.fetches).toBe(fetchesBefore + 1);
    expect(
      harness
        .logLines()
        .some((l) => l.message === 'JWKS refresh failed; verifying with the keys fetched before'),
    ).toBe(true);
  });
});
