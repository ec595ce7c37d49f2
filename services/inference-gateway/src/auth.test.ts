import { AppError } from '@corral/service-kit';
import { describe, expect, it } from 'vitest';
import { adminVerifierFrom, tokensEqual } from './auth.js';

describe('tokensEqual', () => {
  it('matches equal tokens only, whatever the lengths', () => {
    expect(tokensEqual('a-long-service-token', 'a-long-service-token')).toBe(true);
    expect(tokensEqual('a-long-service-token', 'a-long-service-tokeN')).toBe(false);
    expect(tokensEqual('short', 'a-long-service-token')).toBe(false);
    expect(tokensEqual('', 'x')).toBe(false);
  });
});

describe('adminVerifierFrom (auth-client verifyAccessToken → admin or not)', () => {
  const principal = (role: string) => async () => ({ role });
  const failing = (error: unknown) => async (): Promise<{ role: string }> => {
    throw error;
  };

  it('an admin’s token is accepted; a user’s is not', async () => {
    expect(await adminVerifierFrom(principal('admin'))('t')).toBe(true);
    expect(await adminVerifierFrom(principal('user'))('t')).toBe(false);
  });

  it('an invalid or expired token is a plain no', async () => {
    expect(await adminVerifierFrom(failing(new AppError('invalid_token')))('t')).toBe(false);
    expect(await adminVerifierFrom(failing(new Error('jose says no')))('t')).toBe(false);
  });

  it('auth being unreachable stays an error (503), so operators see it', async () => {
    const down = new AppError('service_unavailable', 'auth service unreachable');
    await expect(adminVerifierFrom(failing(down))('t')).rejects.toBe(down);
  });
});
