// Issue 21, finding 9: after two signing-key rotations within the JWKS cooldown (30 s), new tokens
// were refused downstream until it ended. auth-client now refetches at once for a token issued
// after its last refetch whose kid it does not know.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, loginAdmin, useAuthStack } from './helpers.js';

// Longer than auth-client's default 30 s, so both rotations fall within it however slow key
// generation is on a busy machine (each takes seconds): without the eager refetch both would fail.
const stack = useAuthStack({ downstream: { jwksCooldownMs: 600_000 } });

const rotate = async () =>
  (
    await request(stack.auth.url)
      .post('/api/auth/admin/keys/rotate')
      .set(bearer(stack.admin.accessToken))
      .expect(201)
  ).body as { kid: string };

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;

describe('JWKS refetch for a newer kid', () => {
  // Each rotation makes an RSA key pair: slow on a busy machine.
  it(
    'verifies new tokens at once after two rotations within the cooldown',
    { timeout: 120_000 },
    async () => {
      await request(stack.downstream.url).get('/whoami').set(bearer(stack.admin.accessToken)).expect(200);
      for (let rotation = 1; rotation <= 2; rotation += 1) {
        const { kid } = await rotate();
        const fresh = await loginAdmin(stack.auth.url);
        expect(kidOf(fresh.accessToken)).toBe(kid);
        await request(stack.downstream.url).get('/whoami').set(bearer(fresh.accessToken)).expect(200);
      }
    },
  );
});
