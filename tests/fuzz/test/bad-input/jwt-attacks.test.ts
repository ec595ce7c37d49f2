// The JWT attack list from the auth issue, against every service that accepts access tokens:
// chat-api (/api and /v1), the gateway's /admin and auth's own /me. Claims are only worth
// testing with a key the services trust, so a test key is published in auth's signing_keys
// (retired now: in the JWKS, never used by auth to sign) before anything has fetched the JWKS.
import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '@corral/test-support';
import { type User, call, loginAdmin } from '../support/http.js';
import { GATEWAY_SERVICE_TOKEN, JWT_AUDIENCE, JWT_ISSUER, type Stack, startStack } from '../support/stack.js';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let stack: Stack;
let admin: User;
let trusted: { key: PrivateKey; kid: string };
let removed: { key: PrivateKey; kid: string };

async function testKey(): Promise<{ key: PrivateKey; kid: string; jwk: Record<string, unknown> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { key: privateKey, kid, jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' } };
}

async function publish(key: { kid: string; jwk: Record<string, unknown> }, retiredAt: string): Promise<void> {
  await sql(
    `INSERT INTO "${stack.authSchema}".signing_keys (kid, algorithm, public_jwk, encrypted_private_key, created_at, retired_at)
     VALUES ($1, 'RS256', $2::jsonb, 'test key: not encrypted, never used to sign', '2000-01-01', ${retiredAt})`,
    [key.kid, JSON.stringify(key.jwk)],
  );
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(
  key: { key: PrivateKey; kid: string },
  claims: Record<string, unknown> = {},
  { expiresIn = '10m' as string | number } = {},
) {
  const { iss = JWT_ISSUER, aud = JWT_AUDIENCE, ...rest } = claims;
  return new SignJWT({ email: admin.email, role: 'admin', ...rest })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(String(iss))
    .setAudience(String(aud))
    .setSubject(admin.id)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key.key);
}

beforeAll(async () => {
  stack = await startStack({ env: { all: { LOG_LEVEL: 'error' } } });
  const [trustedKey, removedKey] = await Promise.all([testKey(), testKey()]);
  await publish(trustedKey, 'now()');
  // Retired in 2000: long out of the JWKS, as a key auth dropped after its last token expired.
  await publish(removedKey, "'2000-01-02'");
  trusted = trustedKey;
  removed = removedKey;
  admin = await loginAdmin(stack.auth.url);
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** Every place a JWT opens, and what a valid admin token gets there. */
const targets = () => [
  { name: 'chat-api /api', url: stack.chat!.url, path: '/api/conversations', ok: 200 },
  { name: 'chat-api /v1', url: stack.chat!.url, path: '/v1/models', ok: 200 },
  { name: 'chat-api admin', url: stack.chat!.url, path: '/api/admin/usage', ok: 200 },
  { name: 'gateway /admin', url: stack.gateway!.url, path: '/admin/backends', ok: 200 },
  { name: 'auth /me', url: stack.auth.url, path: '/api/auth/me', ok: 200 },
];

async function expectEverywhere(token: string, status: number, what: string) {
  for (const target of targets()) {
    const reply = await call(target.url, target.path, { token });
    expect.soft(reply.status, `${what} at ${target.name}: ${reply.text.slice(0, 200)}`).toBe(status);
  }
}

describe('JWT attacks are 401 at every service', () => {
  it('control: tokens from auth and from the published test key are accepted', async () => {
    await expectEverywhere(admin.token, 200, 'auth-issued admin token');
    await expectEverywhere(await sign(trusted), 200, 'test-key admin token');
    // The gateway's own service token still works next to JWTs.
    expect((await call(stack.gateway!.url, '/admin/backends', { token: GATEWAY_SERVICE_TOKEN })).status).toBe(
      200,
    );
  });

  it('a token signed by a removed key', async () => {
    await expectEverywhere(await sign(removed), 401, 'removed key');
  });

  it('an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectEverywhere(await sign(trusted, {}, { expiresIn: past }), 401, 'expired');
  });

  it('a wrong issuer or audience', async () => {
    await expectEverywhere(await sign(trusted, { iss: 'evil-auth' }), 401, 'wrong iss');
    await expectEverywhere(await sign(trusted, { aud: 'someone-else' }), 401, 'wrong aud');
  });

  it('alg none', async () => {
    const [, payload] = admin.token.split('.');
    await expectEverywhere(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, 401, 'alg none');
    await expectEverywhere(`${b64({ alg: 'none', kid: trusted.kid })}.${payload}.`, 401, 'alg none with kid');
  });

  it('HS256 signed with the public key', async () => {
    const jwks = (await call(stack.auth.url, '/.well-known/jwks.json')).json as {
      keys: Array<{ kid: string }>;
    };
    const [, payload] = admin.token.split('.');
    for (const jwk of jwks.keys) {
      const header = b64({ alg: 'HS256', kid: jwk.kid, typ: 'JWT' });
      for (const secret of [JSON.stringify(jwk), jwk.kid]) {
        const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        await expectEverywhere(`${header}.${payload}.${mac}`, 401, 'HS256 with the public key');
      }
    }
  });

  it('a tampered payload', async () => {
    const email = `tamper-${Date.now()}@fuzz.test`;
    const user = await call(stack.auth.url, '/api/auth/register', {
      body: { email, password: 'tamper-password-123' },
    });
    expect(user.status).toBe(202);
    const login = await call(stack.auth.url, '/api/auth/login', {
      body: { email, password: 'tamper-password-123' },
    });
    const [header, payload, signature] = (login.json as { accessToken: string }).accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    await expectEverywhere(`${header}.${b64({ ...claims, role: 'admin' })}.${signature}`, 401, 'role raised');
    await expectEverywhere(`${header}.${b64({ ...claims, sub: admin.id })}.${signature}`, 401, 'sub swapped');
  });

  it('an unknown kid', async () => {
    const stranger = await testKey();
    await expectEverywhere(await sign(stranger), 401, 'unknown kid');
    await expectEverywhere(await sign({ key: stranger.key, kid: trusted.kid }), 401, 'known kid, wrong key');
  });
});
