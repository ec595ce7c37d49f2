import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createActiveUser, expectProblem, loginAdmin, useAuthStack } from './helpers.js';

const stack = useAuthStack({
  env: { LOGIN_MAX_FAILURES_PER_IP: '8', TRUST_PROXY: 'loopback' },
  // Sign-ins are what this file counts: none ahead of its tests.
  signInAdmin: false,
});

const attempt = (email: string, password: string, ip = '198.51.100.1') =>
  request(stack.auth.url).post('/api/auth/login').set('X-Forwarded-For', ip).send({ email, password });

describe('login throttling (Redis)', () => {
  it('answers the 6th wrong password in a minute for one account with 429 and Retry-After', async () => {
    const admin = await loginAdmin(stack.auth.url);
    const victim = await createActiveUser(stack.auth.url, admin);
    const email = victim.user.email;
    // Spread over several client IPs: the per-account limit holds regardless of where attempts come from.
    for (let i = 1; i <= 5; i += 1) {
      expectProblem(
        await attempt(email, `wrong-password-${i}`, `203.0.113.${i}`),
        401,
        'invalid_credentials',
      );
    }
    const sixth = await attempt(email.toUpperCase(), 'wrong-password-6', '203.0.113.6');
    expectProblem(sixth, 429, 'rate_limited');
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Locked means locked: the right password waits too, so guessing cannot be confirmed.
    expectProblem(await attempt(email, 'user-password-123', '203.0.113.7'), 429, 'rate_limited');

    // Other accounts are unaffected.
    await request(stack.auth.url)
      .post('/api/auth/login')
      .send({ email: 'admin@corral.test', password: 'admin-password-123' })
      .expect(200);

    const metrics = await request(stack.auth.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/corral_auth_sign_ins_total\{outcome="throttled"\} [1-9]/);
    expect(metrics.text).toMatch(/corral_auth_sign_ins_total\{outcome="invalid_credentials"\} [1-9]/);
    const failures = await stack.auth.ctx.db.prisma.auditEvent.count({
      where: { action: 'user.sign_in', outcome: 'failure' },
    });
    expect(failures).toBeGreaterThanOrEqual(7);
  });

  it('limits failures per client IP across accounts', async () => {
    const ip = '192.0.2.77';
    for (let i = 1; i <= 8; i += 1) {
      expectProblem(
        await attempt(`nobody-${i}@corral.test`, 'wrong-password', ip),
        401,
        'invalid_credentials',
      );
    }
    const blocked = await attempt('someone-else@corral.test', 'wrong-password', ip);
    expectProblem(blocked, 429, 'rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
