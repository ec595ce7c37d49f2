import type { Session } from '@corral/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testUser } from '../../test/fixtures.js';
import { ApiClient } from '../api/http.js';
import { syncSessionAcrossTabs } from './session-sync.js';

const USER = testUser('6f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c', 'a@corral.test');
const session: Omit<Session, 'refreshToken' | 'refreshExpiresIn'> = {
  accessToken: 'token',
  tokenType: 'Bearer',
  expiresIn: 900,
  user: USER,
};

/** A tab: its own client (the refresh endpoint answers with a session, as the shared cookie allows). */
function tab() {
  const refreshes = vi.fn(async () =>
    Response.json({ ...session, refreshToken: 'r', refreshExpiresIn: 86_400 } satisfies Session),
  );
  const client = new ApiClient('', refreshes);
  const seen: Array<string | undefined> = [];
  client.onSessionChange(({ reason }) => seen.push(reason));
  return { client, refreshes, seen, stop: syncSessionAcrossTabs(client) };
}

const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

describe('sessions across tabs', () => {
  it('signing out in one tab signs the others out; signing in makes them refresh their own session', async () => {
    const [a, b] = [tab(), tab()];
    stops.push(a.stop, b.stop);
    a.client.acceptSession(session);
    await vi.waitFor(() => expect(b.refreshes).toHaveBeenCalledOnce());
    await vi.waitFor(() => expect(b.client.hasSession).toBe(true));
    expect(b.seen).toEqual(['refreshed']);

    a.client.endSession('signed-out');
    await vi.waitFor(() => expect(b.client.hasSession).toBe(false));
    expect(b.seen).toEqual(['refreshed', 'signed-out']);
    // What a tab was told is not sent on: the first tab heard nothing back.
    expect(a.seen).toEqual(['signed-in', 'signed-out']);
    expect(a.refreshes).not.toHaveBeenCalled();
  });
});
