// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testUser } from '../../test/fixtures.js';
import { http } from '../api/index.js';
import { PasswordPanel } from './PasswordPanel.js';

vi.mock('../auth/AuthContext.js', () => ({
  useAuth: () => ({ user: { ...testUser('u1', 'admin@corral.local'), mustChangePassword: true } }),
}));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const fill = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('Settings → Password', () => {
  it('asks the bootstrap admin for their own password and sends current and new to auth', async () => {
    const sent: Array<{ url: string; body: unknown }> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        sent.push({ url: String(input), body: JSON.parse(String(init?.body)) });
        return Response.json({
          accessToken: 'new-access',
          tokenType: 'Bearer',
          expiresIn: 900,
          refreshToken: 'r',
          refreshExpiresIn: 1000,
          user: { ...testUser('u1', 'admin@corral.local'), mustChangePassword: false },
        });
      }),
    );
    const seen: unknown[] = [];
    const off = http.onSessionChange((change) => seen.push(change.user));
    render(<PasswordPanel />);
    expect(screen.getByRole('note').textContent).toContain('generated password');

    fill('Current password', 'generated-one');
    fill('New password', 'my-own-password');
    fill('New password again', 'my-own-password');
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }));

    expect((await screen.findByRole('status')).textContent).toContain('Other sessions have been signed out');
    expect(sent).toEqual([
      {
        url: '/api/auth/password',
        body: { currentPassword: 'generated-one', newPassword: 'my-own-password' },
      },
    ]);
    // The app carries on with the session auth issued in place of the old one.
    expect(seen).toEqual([expect.objectContaining({ mustChangePassword: false })]);
    off();
  });

  it('does not send two new passwords that differ, and shows auth’s refusal of a wrong current one', async () => {
    const fetchMock = vi.fn(async () =>
      Response.json(
        {
          type: 'urn:corral:error:validation_failed',
          title: 'Request validation failed',
          status: 400,
          code: 'validation_failed',
          detail: 'body.currentPassword: is not your current password',
        },
        { status: 400, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<PasswordPanel />);
    fill('Current password', 'wrong');
    fill('New password', 'my-own-password');
    fill('New password again', 'my-own-passwordX');
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect((await screen.findByRole('alert')).textContent).toContain('differ');
    expect(fetchMock).not.toHaveBeenCalled();

    fill('New password again', 'my-own-password');
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect((await screen.findByRole('alert')).textContent).toContain('not your current password');
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
