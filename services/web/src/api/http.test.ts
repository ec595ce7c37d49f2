import type { Session } from '@corral/contracts';
import { describe, expect, it, vi } from 'vitest';
import { testUser } from '../../test/fixtures.js';
import { ApiError } from './errors.js';
import { ApiClient } from './http.js';

const USER = testUser('6f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c', 'a@corral.test');

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: {
      'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json',
      ...headers,
    },
  });

const problem = (status: number, code: string, detail: string, headers: Record<string, string> = {}) =>
  json(
    status,
    { type: `urn:corral:error:${code}`, title: code, status, detail, code, requestId: 'r1' },
    headers,
  );

const session = (token: string) =>
  json(200, {
    accessToken: token,
    tokenType: 'Bearer',
    expiresIn: 900,
    refreshToken: `refresh-${token}`,
    refreshExpiresIn: 86_400,
    user: USER,
  } satisfies Session);

/** A fake server: the access token "fresh" is accepted, anything else is invalid_token. */
function fakeServer() {
  const calls: Array<{ url: string; auth: string | null }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const auth = new Headers(init?.headers).get('Authorization');
    calls.push({ url, auth });
    if (url.endsWith('/api/auth/refresh')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return session('fresh');
    }
    if (auth !== 'Bearer fresh') return problem(401, 'invalid_token', 'The access token has expired.');
    return json(200, { ok: true, url });
  });
  return { calls, fetchImpl: fetchImpl as unknown as typeof fetch };
}

describe('ApiClient token handling', () => {
  it('refreshes once on 401 invalid_token and retries the call', async () => {
    const { calls, fetchImpl } = fakeServer();
    const client = new ApiClient('', fetchImpl);
    client.acceptSession({ accessToken: 'stale', tokenType: 'Bearer', expiresIn: 900, user: USER });

    await expect(client.request('/api/conversations')).resolves.toEqual({
      ok: true,
      url: '/api/conversations',
    });
    expect(calls.map((c) => `${c.url} ${c.auth ?? '-'}`)).toEqual([
      '/api/conversations Bearer stale',
      '/api/auth/refresh -',
      '/api/conversations Bearer fresh',
    ]);
  });

  it('shares one refresh between calls that fail together', async () => {
    const { calls, fetchImpl } = fakeServer();
    const client = new ApiClient('', fetchImpl);
    client.acceptSession({ accessToken: 'stale', tokenType: 'Bearer', expiresIn: 900, user: USER });

    await Promise.all([client.request('/api/a'), client.request('/api/b'), client.request('/api/c')]);
    expect(calls.filter((c) => c.url.endsWith('/refresh'))).toHaveLength(1);
  });

  it('refreshes before a call when the token is about to expire', async () => {
    const { calls, fetchImpl } = fakeServer();
    let now = 1_000_000;
    const client = new ApiClient('', fetchImpl, () => now);
    client.acceptSession({ accessToken: 'stale', tokenType: 'Bearer', expiresIn: 60, user: USER });
    now += 45_000;
    await client.request('/api/x');
    expect(calls.map((c) => c.url)).toEqual(['/api/auth/refresh', '/api/x']);
  });

  it('ends the session when the refresh token is refused, and does not loop', async () => {
    const fetchImpl = vi.fn(async (input: RequestInfo | URL) =>
      String(input).endsWith('/refresh')
        ? problem(401, 'invalid_token', 'Refresh token expired.')
        : problem(401, 'invalid_token', 'expired'),
    ) as unknown as typeof fetch;
    const client = new ApiClient('', fetchImpl);
    const changes: Array<string | undefined> = [];
    client.onSessionChange((s) => changes.push(s.reason));
    client.acceptSession({ accessToken: 'stale', tokenType: 'Bearer', expiresIn: 900, user: USER });

    const error = await client.request('/api/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_token');
    expect(vi.mocked(fetchImpl)).toHaveBeenCalledTimes(2);
    expect(changes).toEqual(['signed-in', 'expired']);
    expect(client.hasSession).toBe(false);
  });

  it('turns problem+json into a typed error with the Retry-After wait', async () => {
    const fetchImpl = vi.fn(async () =>
      problem(429, 'rate_limited', 'Too many requests.', { 'Retry-After': '42' }),
    ) as unknown as typeof fetch;
    const client = new ApiClient('', fetchImpl);
    const error = (await client.request('/api/x').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('rate_limited');
    expect(error.status).toBe(429);
    expect(error.retryAfterSeconds).toBe(42);
    expect(error.requestId).toBe('r1');
  });
});
