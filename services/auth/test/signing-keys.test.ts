import { createPublicKey } from 'node:crypto';
import { SignJWT, generateKeyPair, type JWTPayload } from 'jose';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createActiveUser,
  expectProblem,
  loginAdmin,
  startDownstream,
  useAuthStack,
} from './helpers.js';

const stack = useAuthStack({ downstream: true });

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims a real token would carry, for forging variations of it. */
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: 'corral-auth',
  aud: 'corral',
  sub: stack.admin.user.id,
  email: stack.admin.user.email,
  role: 'admin',
  jti: 'forged-jti',
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 600,
  ...overrides,
});

async function signWithActiveKey(payload: JWTPayload, kid?: string): Promise<string> {
  const signer = await stack.auth.ctx.keys.currentSigner();
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: kid ?? signer.kid, typ: 'JWT' })
    .sign(signer.privateKey);
}

async function expectRejectedEverywhere(token: string): Promise<void> {
  expectProblem(await request(stack.downstream.url).get('/whoami').set(bearer(token)), 401, 'invalid_token');
  expectProblem(await request(stack.auth.url).get('/api/auth/me').set(bearer(token)), 401, 'invalid_token');
}

describe('signing keys: JWKS and rotation', () => {
  it('publishes the active key with Cache-Control, and the token verifies through auth-client', async () => {
    const jwks = await request(stack.auth.url).get('/.well-known/jwks.json').expect(200);
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    const [key] = jwks.body.keys as Array<Record<string, string>>;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(key).not.toHaveProperty('d');
    expect(Buffer.from(key?.n ?? '', 'base64url').length * 8).toBeGreaterThanOrEqual(2048);

    const header = JSON.parse(
      Buffer.from(stack.admin.accessToken.split('.')[0] ?? '', 'base64url').toString(),
    );
    expect(header).toMatchObject({ alg: 'RS256', kid: key?.kid });
    const who = await request(stack.downstream.url)
      .get('/whoami')
      .set(bearer(stack.admin.accessToken))
      .expect(200);
    expect(who.body).toMatchObject({
      kind: 'jwt',
      userId: stack.admin.user.id,
      role: 'admin',
      email: stack.admin.user.email,
    });
  });

  it('keeps tokens signed before a rotation valid, and signs new ones with the new key', async () => {
    const before = await createActiveUser(stack.auth.url, stack.admin);
    const oldKid = (await stack.auth.ctx.keys.currentSigner()).kid;
    const rotated = await request(stack.auth.url)
      .post('/api/auth/admin/keys/rotate')
      .set(bearer(stack.admin.accessToken))
      .expect(201);
    expect(rotated.body).toMatchObject({ retired: [oldKid] });
    expect(rotated.body.kid).not.toBe(oldKid);

    const jwks = await request(stack.auth.url).get('/.well-known/jwks.json').expect(200);
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort()).toEqual(
      [oldKid, rotated.body.kid].sort(),
    );
    await request(stack.downstream.url).get('/whoami').set(bearer(before.accessToken)).expect(200);
    await request(stack.auth.url).get('/api/auth/me').set(bearer(before.accessToken)).expect(200);

    const after = await loginAdmin(stack.auth.url);
    const kid = JSON.parse(Buffer.from(after.accessToken.split('.')[0] ?? '', 'base64url').toString()).kid;
    expect(kid).toBe(rotated.body.kid);
    await request(stack.downstream.url).get('/whoami').set(bearer(after.accessToken)).expect(200);

    const audit = await stack.auth.ctx.db.prisma.auditEvent.findFirst({
      where: { action: 'signing_key.rotated' },
    });
    expect(audit).toMatchObject({ actorId: stack.admin.user.id, targetId: rotated.body.kid });
  });

  it('drops a key from the JWKS once its tokens have expired; its tokens are then refused', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const oldKid = (await stack.auth.ctx.keys.currentSigner()).kid;
    await request(stack.auth.url)
      .post('/api/auth/admin/keys/rotate')
      .set(bearer(stack.admin.accessToken))
      .expect(201);
    // Stand-in for the passage of TTL + leeway: the key was retired long ago.
    await stack.auth.ctx.db.prisma.signingKey.update({
      where: { kid: oldKid },
      data: { retiredAt: new Date(Date.now() - 24 * 3600 * 1000) },
    });
    const jwks = await request(stack.auth.url).get('/.well-known/jwks.json').expect(200);
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).not.toContain(oldKid);

    const fresh = await startDownstream(stack.auth);
    try {
      expectProblem(
        await request(fresh.url).get('/whoami').set(bearer(user.accessToken)),
        401,
        'invalid_token',
      );
    } finally {
      await fresh.close();
    }
    expectProblem(
      await request(stack.auth.url).get('/api/auth/me').set(bearer(user.accessToken)),
      401,
      'invalid_token',
    );
  });
});

describe('signing keys: forged and broken tokens are 401', () => {
  it('an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejectedEverywhere(await signWithActiveKey(claims({ iat: now - 3600, exp: now - 1800 })));
  });

  it('a wrong issuer or audience', async () => {
    await expectRejectedEverywhere(await signWithActiveKey(claims({ iss: 'someone-else' })));
    await expectRejectedEverywhere(await signWithActiveKey(claims({ aud: 'other-audience' })));
  });

  it('alg: none', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT', kid: (await stack.auth.ctx.keys.currentSigner()).kid })}.${b64url(claims())}.`;
    await expectRejectedEverywhere(token);
  });

  it('HS256 made with the public key as the HMAC secret', async () => {
    const signer = await stack.auth.ctx.keys.currentSigner();
    const publicPem = createPublicKey(signer.privateKey).export({ type: 'spki', format: 'pem' });
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: signer.kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(String(publicPem)));
    await expectRejectedEverywhere(token);
  });

  it('a tampered payload (user promoted to admin)', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const [header, payload, signature] = user.accessToken.split('.');
    const decoded = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as JWTPayload;
    await expectRejectedEverywhere(`${header}.${b64url({ ...decoded, role: 'admin' })}.${signature}`);
  });

  it('an unknown kid, signed by a key auth never made', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'not-a-corral-key', typ: 'JWT' })
      .sign(privateKey);
    await expectRejectedEverywhere(token);
  });

  it('a correct signature but a known kid of another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid = (await stack.auth.ctx.keys.currentSigner()).kid;
    await expectRejectedEverywhere(
      await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey),
    );
  });

  it('requires the admin role for the rotation endpoint', async () => {
    expectProblem(await request(stack.auth.url).post('/api/auth/admin/keys/rotate'), 401, 'unauthorized');
  });
});
