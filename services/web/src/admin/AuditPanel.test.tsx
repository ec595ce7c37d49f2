// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testUser } from '../../test/fixtures.js';
import type { AuditEvent } from '../api/index.js';
import { AuditPanel } from './AuditPanel.js';

const ADMIN = '11111111-2222-4333-8444-555555555555';
const BOB = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
const GONE = 'd3adbeef-1234-4abc-9def-0123456789ab';
const AT = '2025-11-23T10:00:00.000Z';

const event = (id: string, action: string, fields: Partial<AuditEvent>): AuditEvent => ({
  id,
  action,
  outcome: 'success',
  actorId: null,
  targetType: null,
  targetId: null,
  ip: '10.0.0.1',
  details: null,
  at: AT,
  ...fields,
});

const EVENTS: AuditEvent[] = [
  event('4', 'user.activated', { actorId: ADMIN, targetType: 'user', targetId: BOB }),
  event('3', 'user.disabled', { actorId: ADMIN, targetType: 'user', targetId: GONE }),
  event('2', 'user.sign_in', {
    outcome: 'failure',
    targetType: 'user',
    details: { email: 'nobody@example.com', reason: 'invalid_credentials' },
  }),
  event('1', 'api_key.created', {
    actorId: BOB,
    targetType: 'api_key',
    targetId: 'key-1',
    details: { ownerId: BOB, name: 'laptop', scopes: ['inference'] },
  }),
];

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('Admin → Audit log', () => {
  it('names actors and target users by email, and keeps what auth recorded for the rest', async () => {
    const requests: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        const url = String(input);
        requests.push(url);
        if (url.startsWith('/api/auth/admin/audit'))
          return Response.json({ items: EVENTS, nextCursor: null });
        return Response.json({
          items: [testUser(ADMIN, 'admin@corral.local'), testUser(BOB, 'bob@example.com')],
          nextCursor: null,
        });
      }),
    );
    render(<AuditPanel />);
    await screen.findAllByText('bob@example.com');

    const cells = within(screen.getByRole('table'))
      .getAllByRole('row')
      .slice(1)
      .map((row) =>
        within(row)
          .getAllByRole('cell')
          .map((cell) => cell.textContent),
      );
    const when = new Date(AT).toLocaleString();
    expect(cells).toEqual([
      [when, 'user.activated', 'success', 'admin@corral.local', 'bob@example.com', '10.0.0.1'],
      [when, 'user.disabled', 'success', 'admin@corral.local', 'd3adbeef… (no longer exists)', '10.0.0.1'],
      [when, 'user.sign_in', 'failure', '—', 'nobody@example.com', '10.0.0.1'],
      [when, 'api_key.created', 'success', 'bob@example.com', 'API key “laptop”', '10.0.0.1'],
    ]);
    expect(screen.getAllByText('admin@corral.local')[0]!.getAttribute('title')).toBe(`User id ${ADMIN}`);
    expect(requests.filter((r) => r.startsWith('/api/auth/admin/users'))).toHaveLength(1);
  });
});
