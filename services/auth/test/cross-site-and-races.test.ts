// Issue 21, finding 8: a cross-site form POST could sign a victim out, and two tabs refreshing at
// once revoked the session. Refresh and logout now need a same-origin request (or a JSON body),
// and a refresh token presented again within the grace window gets the same new refresh token.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, createActiveUser, expectProblem, login, type Session, useAuthStack } from './helpers.js';

const stack = useAuthStack({ env: { PUBLIC_URL: 'http://corral.test' } });

const cookie = (token: string) => `corral_refresh=${token}`;
const stillRefreshes = async (token: string) =>
  (await request(stack.auth.url).post('/api/auth/refresh').set('Cookie', cookie(token)).expect(200))
    .body as Session;

describe('cross-site requests change nothing', () => {
  it('a cross-site form POST to logout or refresh is refused and the session lives on', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    for (const path of ['/api/auth/logout', '/api/auth/refresh']) {
      // What a top-level <form method=post action=…/logout> on another site sends.
      const res = await request(stack.auth.url)
        .post(path)
        .set('Cookie', cookie(user.refreshToken))
        .set('Origin', 'https://evil.example')
        .set('Sec-Fetch-Site', 'cross-site')
        .type('form')
        .send('x=1');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['set-cookie']).toBeUndefined();
      // Without a body (a bare form) or from a browser that sends only Origin: refused as well.
      expectProblem(
        await request(stack.auth.url)
          .post(path)
          .set('Cookie', cookie(user.refreshToken))
          .set('Origin', 'https://evil.example'),
        403,
        'forbidden',
      );
      expectProblem(
        await request(stack.auth.url)
          .post(path)
          .set('Cookie', cookie(user.refreshToken))
          .set('Sec-Fetch-Site', 'same-site'),
        403,
        'forbidden',
      );
    }
    const rows = await stack.auth.ctx.db.prisma.refreshToken.findMany({ where: { userId: user.user.id } });
    expect(rows.every((row) => row.revokedAt === null)).toBe(true);
    await request(stack.auth.url).get('/api/auth/me').set(bearer(user.accessToken)).expect(200);
    await stillRefreshes(user.refreshToken);
  });

  it('the web app (same origin) and non-browser clients still refresh and sign out', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const viaFetch = await request(stack.auth.url)
      .post('/api/auth/refresh')
      .set('Cookie', cookie(user.refreshToken))
      .set('Origin', 'http://corral.test')
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(200);
    await request(stack.auth.url)
      .post('/api/auth/logout')
      .set('Origin', 'http://corral.test')
      .set('Cookie', cookie(viaFetch.body.refreshToken as string))
      .expect(204);
    const other = await login(stack.auth.url, user.user.email, 'user-password-123');
    await request(stack.auth.url)
      .post('/api/auth/logout')
      .send({ refreshToken: other.refreshToken })
      .expect(204);
  });
});

describe('two tabs refreshing at once', () => {
  it('concurrent refreshes with one token all get the same new refresh token; the session survives', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        request(stack.auth.url).post('/api/auth/refresh').set('Cookie', cookie(user.refreshToken)),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    const tokens = new Set(answers.map((res) => res.body.refreshToken as string));
    expect(tokens.size).toBe(1);
    for (const res of answers) {
      await request(stack.auth.url)
        .get('/api/auth/me')
        .set(bearer(res.body.accessToken as string))
        .expect(200);
    }
    // The shared successor goes on working: the family was not revoked.
    const next = await stillRefreshes([...tokens][0] ?? '');
    await request(stack.auth.url).get('/api/auth/me').set(bearer(next.accessToken)).expect(200);
    // Once its successor has been used, the first token is a replay: the whole family goes.
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').set('Cookie', cookie(user.refreshToken)),
      401,
      'invalid_token',
    );
    expectProblem(
      await request(stack.auth.url).post('/api/auth/refresh').send({ refreshToken: next.refreshToken }),
      401,
      'invalid_token',
    );
  });
});
