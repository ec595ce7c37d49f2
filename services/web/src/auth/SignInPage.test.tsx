// @vitest-environment jsdom
import type { AuthPublicConfig } from '@corral/contracts';
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignInErrorPage } from './SignInErrorPage.js';
import { SignInPage } from './SignInPage.js';

vi.mock('./AuthContext.js', () => ({ useAuth: () => ({ expired: false, restoreError: undefined }) }));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function serveConfig(config: AuthPublicConfig) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      if (String(input) === '/api/auth/config') return Response.json(config);
      return new Response(null, { status: 404 });
    }),
  );
}

const idp = {
  buttonLabel: 'Sign in with Okta',
  loginUrl: '/api/auth/oidc/login',
  logoutUrl: '/api/auth/oidc/logout',
};

describe('Sign-in page', () => {
  it('shows the identity provider’s button next to the password form', async () => {
    serveConfig({ passwordLogin: true, registration: 'open', oidc: idp });
    render(
      <MemoryRouter>
        <SignInPage />
      </MemoryRouter>,
    );
    const button = await screen.findByRole('link', { name: 'Sign in with Okta' });
    expect(button.getAttribute('href')).toBe('/api/auth/oidc/login?returnTo=%2F');
    expect(screen.getByLabelText('Password')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Register' })).toBeTruthy();
  });

  it('hides the password form and registration when password sign-in is off', async () => {
    serveConfig({ passwordLogin: false, registration: 'open', oidc: idp });
    render(
      <MemoryRouter>
        <SignInPage />
      </MemoryRouter>,
    );
    await screen.findByRole('link', { name: 'Sign in with Okta' });
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(screen.queryByRole('link', { name: 'Register' })).toBeNull();
  });

  it('shows no IdP button when none is configured', async () => {
    serveConfig({ passwordLogin: true, registration: 'closed', oidc: null });
    render(
      <MemoryRouter>
        <SignInPage />
      </MemoryRouter>,
    );
    await screen.findByLabelText('Password');
    await vi.waitFor(() => expect(vi.mocked(fetch)).toHaveBeenCalled());
    expect(screen.queryByRole('link', { name: /Sign in with/ })).toBeNull();
  });
});

describe('Sign-in error page', () => {
  const at = (url: string) =>
    render(
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/login/error" element={<SignInErrorPage />} />
        </Routes>
      </MemoryRouter>,
    );

  it('says which problem stopped the sign-in', () => {
    at('/login/error?reason=group_not_allowed');
    expect(screen.getByRole('heading').textContent).toBe('You are not in a group that may use Corral');
    cleanup();
    at('/login/error?reason=email_not_verified');
    expect(screen.getByRole('heading').textContent).toBe('Your email address is not verified');
  });

  it('has words for an unknown reason too, never raw text from the URL', () => {
    at('/login/error?reason=%3Cscript%3E');
    expect(screen.getByRole('heading').textContent).toBe('Sign-in failed');
    expect(document.body.textContent).not.toContain('<script>');
  });
});
