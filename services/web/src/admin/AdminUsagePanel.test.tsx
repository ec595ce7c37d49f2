// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testUser } from '../../test/fixtures.js';
import type { AdminUsageRow, Page, User } from '../api/index.js';
import { AdminUsagePanel } from './AdminUsagePanel.js';

const ADA = '6f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c';
const BOB = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
const GONE = 'd3adbeef-1234-4abc-9def-0123456789ab';

const row = (userId: string, model: string, tokens: number): AdminUsageRow => ({
  day: new Date().toISOString().slice(0, 10),
  model,
  requests: 1,
  promptTokens: tokens,
  completionTokens: 0,
  userId,
});

let requests: string[];
let groupUsage: unknown[] = [];

/** Stands in for chat-api's usage route and auth's users list (two pages, `GONE` in neither). */
function serve(usage: AdminUsageRow[], userPages: Array<Page<User>>) {
  requests = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const url = new URL(String(input), 'http://corral.test');
      requests.push(`${url.pathname}${url.search}`);
      if (url.pathname === '/api/admin/usage') return Response.json({ items: usage, nextCursor: null });
      if (url.pathname === '/api/admin/usage/groups') return Response.json({ items: groupUsage });
      if (url.pathname === '/api/auth/admin/users') {
        const index = url.searchParams.get('cursor') === null ? 0 : Number(url.searchParams.get('cursor'));
        return Response.json(userPages[index]);
      }
      return Response.json({ code: 'not_found', status: 404 }, { status: 404 });
    }),
  );
}

const byUserRows = async () =>
  within(await screen.findByRole('table', { name: 'By user' }))
    .getAllByRole('row')
    .slice(1);

beforeEach(() => {
  serve([], [{ items: [], nextCursor: null }]);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('Admin → Usage, by user', () => {
  it('shows each user’s email, with the id as a tooltip, and the short id of a user that is gone', async () => {
    serve(
      [row(ADA, 'llama3.2', 50), row(GONE, 'llama3.2', 30), row(ADA, 'qwen', 25), row(BOB, 'qwen', 10)],
      [
        { items: [testUser(BOB, 'bob@example.com')], nextCursor: '1' },
        { items: [testUser(ADA, 'ada@example.com')], nextCursor: null },
      ],
    );
    render(<AdminUsagePanel />);
    await screen.findByText('ada@example.com');

    const rows = await byUserRows();
    expect(rows.map((r) => r.textContent)).toEqual([
      'ada@example.com75',
      'd3adbeef… (no longer exists)30',
      'bob@example.com10',
    ]);
    expect(screen.getByText('ada@example.com').getAttribute('title')).toBe(`User id ${ADA}`);
    const gone = screen.getByText('d3adbeef…');
    expect(gone.getAttribute('title')).toBe(`User id ${GONE} (no longer exists)`);
    expect(screen.queryByText(ADA)).toBeNull();
    // GONE is on no page, so the whole list was read: one pass, not one call per row.
    expect(requests.filter((r) => r.startsWith('/api/auth/admin/users'))).toEqual([
      '/api/auth/admin/users?limit=200',
      '/api/auth/admin/users?limit=200&cursor=1',
    ]);
  });

  it('reads the users list once for the whole table, in big pages, and stops once every id is found', async () => {
    serve(
      [row(ADA, 'm', 5), row(BOB, 'm', 4), row(ADA, 'n', 3)],
      [
        { items: [testUser(ADA, 'ada@example.com'), testUser(BOB, 'bob@example.com')], nextCursor: '1' },
        { items: [], nextCursor: null },
      ],
    );
    render(<AdminUsagePanel />);
    await screen.findByText('bob@example.com');
    expect(requests.filter((r) => r.startsWith('/api/auth/admin/users'))).toEqual([
      '/api/auth/admin/users?limit=200',
    ]);
  });

  it('falls back to ids, and says why, when the users list cannot be read', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) =>
        String(input).startsWith('/api/admin/usage')
          ? Response.json({ items: [row(ADA, 'm', 5)], nextCursor: null })
          : Response.json({ code: 'forbidden', title: 'Forbidden', status: 403 }, { status: 403 }),
      ),
    );
    render(<AdminUsagePanel />);
    await screen.findByText(/Could not load the users list/);
    const rows = await byUserRows();
    expect(rows.map((r) => r.textContent)).toEqual(['6f1c2a9e…5']);
    expect(screen.getByText('6f1c2a9e…').getAttribute('title')).toBe(`User id ${ADA}`);
  });
});

describe('Admin → Usage, by group', () => {
  it('lists each group’s members, requests and tokens, most tokens first', async () => {
    groupUsage = [
      { groupId: 'g1', name: 'Research', members: 2, requests: 3, promptTokens: 10, completionTokens: 5 },
      { groupId: 'g2', name: 'staff', members: 9, requests: 7, promptTokens: 100, completionTokens: 20 },
    ];
    serve([row(ADA, 'llama3.2', 50)], [{ items: [testUser(ADA, 'ada@example.com')], nextCursor: null }]);
    render(<AdminUsagePanel />);
    const table = await screen.findByRole('table', { name: 'By group' });
    const cells = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((r) =>
        within(r)
          .getAllByRole('cell')
          .map((c) => c.textContent),
      );
    expect(cells).toEqual([
      ['staff', '9', '7', '120'],
      ['Research', '2', '3', '15'],
    ]);
    expect(requests).toContain('/api/admin/usage/groups?days=30');
    groupUsage = [];
  });
});
