// Issue 21, findings 7 and 13 (auth): registration is throttled per IP and globally, answers the
// same whether the email has an account, enforces a password policy; bodies must be JSON;
// openid-configuration comes from PUBLIC_URL, not the Host header.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, startAuth, type TestAuth, useAuthStack } from './helpers.js';

const stack = useAuthStack({
  env: {
    TRUST_PROXY: 'loopback',
    REGISTRATION_MAX_PER_IP: '3',
    REGISTRATION_MAX_GLOBAL: '6',
    PUBLIC_URL: 'https://corral.example.com/',
  },
  signInAdmin: false,
});

let n = 0;
const register = (ip: string, body: Record<string, unknown> = {}) =>
  request(stack.auth.url)
    .post('/api/auth/register')
    .set('X-Forwarded-For', ip)
    .send({
      email: `reg-${(n += 1)}-${Date.now()}@corral.test`,
      password: 'a-long-unusual-passphrase',
      ...body,
    });

describe('registration throttling', () => {
  it('refuses the 4th registration from one IP (429, Retry-After), then everyone past the global limit', async () => {
    for (let i = 0; i < 3; i += 1) await register('198.51.100.7').expect(202);
    const fourth = await register('198.51.100.7');
    expectProblem(fourth, 429, 'rate_limited');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
    // Other addresses go on until all of them together reach the global limit.
    for (let i = 0; i < 3; i += 1) await register(`198.51.100.${20 + i}`).expect(202);
    expectProblem(await register('198.51.100.40'), 429, 'rate_limited');
    expect(await stack.auth.ctx.db.prisma.user.count({ where: { email: { startsWith: 'reg-' } } })).toBe(6);
  });
});

describe('registration answers, password policy, content types, discovery', () => {
  let open: TestAuth;
  beforeAll(async () => {
    open = await startAuth({ schema: stack.auth.schema, env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await open?.close();
  });

  it('answers the same for a new address and a taken one, and audits both', async () => {
    const email = `same-${Date.now()}@corral.test`;
    const fresh = await request(open.url)
      .post('/api/auth/register')
      .send({ email, password: 'first-long-passphrase' });
    const taken = await request(open.url)
      .post('/api/auth/register')
      .send({ email: email.toUpperCase(), password: 'second-long-passphrase' });
    expect(fresh.status).toBe(202);
    expect(taken.status).toBe(202);
    expect(taken.body).toEqual(fresh.body);
    expect(fresh.body.message).toMatch(/if this address can register, it is pending/i);
    const events = await open.ctx.db.prisma.auditEvent.findMany({
      where: { action: 'user.registered' },
      orderBy: { id: 'desc' },
      take: 2,
    });
    expect(events.map((e) => e.outcome).sort()).toEqual(['failure', 'success']);
  });

  it('refuses short, repetitive and common passwords with 400 naming the field', async () => {
    for (const password of ['short-pass1', 'aaaaaaaaaaaa', 'qwertyuiop123', 'password1234']) {
      const res = await request(open.url)
        .post('/api/auth/register')
        .send({ email: `weak-${Date.now()}@corral.test`, password });
      expectProblem(res, 400, 'validation_failed');
      expect(JSON.parse(res.text).errors[0].path).toBe('body.password');
    }
  });

  it('answers a POST body that is not JSON with 415, and creates nothing', async () => {
    const email = `form-${Date.now()}@corral.test`;
    const form = await request(open.url)
      .post('/api/auth/register')
      .type('form')
      .send({ email, password: 'a-long-unusual-passphrase' });
    expectProblem(form, 415, 'unsupported_media_type');
    const text = await request(open.url)
      .post('/api/auth/login')
      .set('Content-Type', 'text/plain')
      .send('{"email":"x@y.z","password":"p"}');
    expectProblem(text, 415, 'unsupported_media_type');
    expect(await open.ctx.db.prisma.user.count({ where: { email } })).toBe(0);
  });

  it('builds openid-configuration from PUBLIC_URL whatever the Host header says, cacheable', async () => {
    const res = await request(stack.auth.url)
      .get('/.well-known/openid-configuration')
      .set('Host', 'attacker.example')
      .set('X-Forwarded-Host', 'attacker.example')
      .expect(200);
    expect(res.body).toMatchObject({
      jwks_uri: 'https://corral.example.com/.well-known/jwks.json',
      token_endpoint: 'https://corral.example.com/api/auth/login',
    });
    expect(JSON.stringify(res.body)).not.toContain('attacker');
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
  });
});
