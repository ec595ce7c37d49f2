// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GroupsPanel } from './GroupsPanel.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const at = '2026-12-07T12:00:00.000Z';
const noLimits = {
  allowedModels: [] as string[],
  requestsPerMinute: null,
  dailyTokenBudget: null,
  maxConcurrentStreams: null,
};
const groups = [
  { id: 'g1', name: 'Research', source: 'admin', memberCount: 0, ...noLimits, createdAt: at, updatedAt: at },
  {
    id: 'g2',
    name: 'staff',
    source: 'oidc',
    memberCount: 3,
    ...noLimits,
    allowedModels: ['team-model'],
    requestsPerMinute: 30,
    createdAt: at,
    updatedAt: at,
  },
];

function serve() {
  const sent: Array<{ method: string; url: string; body: unknown }> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      const method = init?.method ?? 'GET';
      sent.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url === '/api/auth/admin/groups' && method === 'GET') return Response.json({ items: groups });
      if (url === '/api/auth/admin/groups' && method === 'POST')
        return Response.json({ group: { ...groups[0], id: 'g3', name: 'Finance' } }, { status: 201 });
      if (url.endsWith('/members')) return Response.json({ items: [] });
      if (url.endsWith('/limits') && method === 'PUT')
        return Response.json({ group: { ...groups[1], ...(JSON.parse(String(init?.body)) as object) } });
      return new Response(null, { status: 404 });
    }),
  );
  return sent;
}

describe('Admin → Groups', () => {
  it('lists groups with where they come from, and creates one', async () => {
    const sent = serve();
    render(<GroupsPanel />);
    const table = await screen.findByRole('table', { name: 'Groups' });
    await screen.findByText('Research');
    expect(table.textContent).toContain('Made here');
    expect(table.textContent).toContain('Synced from identity provider');
    // A synced group is not renamed here.
    expect(screen.queryByRole('button', { name: 'Rename staff' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Rename Research' })).toBeTruthy();

    fireEvent.change(screen.getByLabelText('New group'), { target: { value: 'Finance' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create group' }));
    await vi.waitFor(() =>
      expect(sent).toContainEqual({
        method: 'POST',
        url: '/api/auth/admin/groups',
        body: { name: 'Finance' },
      }),
    );
  });

  it('shows a synced group’s members without the add form', async () => {
    serve();
    render(<GroupsPanel />);
    fireEvent.click(await screen.findByRole('button', { name: 'Members of staff' }));
    expect((await screen.findByRole('note')).textContent).toContain('follow its groups claim');
    expect(screen.queryByLabelText('Add member (email)')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Members of staff' }));
    fireEvent.click(screen.getByRole('button', { name: 'Members of Research' }));
    expect(await screen.findByLabelText('Add member (email)')).toBeTruthy();
  });

  it('shows what each group carries and saves a synced group’s models and limits', async () => {
    const sent = serve();
    render(<GroupsPanel />);
    const table = await screen.findByRole('table', { name: 'Groups' });
    await screen.findByText('team-model');
    expect(table.textContent).toContain('30 req/min');
    fireEvent.click(screen.getByRole('button', { name: 'Models and limits of staff' }));
    const form = await screen.findByRole('form', { name: 'Models and limits of staff' });
    expect((screen.getByLabelText('Models (comma-separated)') as HTMLInputElement).value).toBe('team-model');
    fireEvent.change(screen.getByLabelText('Models (comma-separated)'), {
      target: { value: 'team-model, qwen2.5 ,' },
    });
    fireEvent.change(screen.getByLabelText('Daily token budget'), { target: { value: '0' } });
    fireEvent.change(screen.getByLabelText('Requests per minute'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save staff' }));
    await vi.waitFor(() =>
      expect(sent).toContainEqual({
        method: 'PUT',
        url: '/api/auth/admin/groups/g2/limits',
        body: {
          allowedModels: ['team-model', 'qwen2.5'],
          requestsPerMinute: null,
          dailyTokenBudget: 0,
          maxConcurrentStreams: null,
        },
      }),
    );
    expect((await screen.findByRole('status')).textContent).toBe('Saved.');
    expect(form).toBeTruthy();
  });
});
