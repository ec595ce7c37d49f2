import type { AuthPublicConfig } from '@corral/contracts';
import { useEffect, useState } from 'react';
import { api } from '../api/index.js';

/** Remembers that this browser signed in through the IdP, so signing out ends the IdP session too. */
export const SIGNED_IN_VIA_IDP = 'corral.signedInViaIdp';

/** auth's public sign-in options; undefined while loading, or when they could not be read. */
export function useSignInOptions(): { options: AuthPublicConfig | undefined; error: unknown } {
  const [options, setOptions] = useState<AuthPublicConfig>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    api.auth.config().then(
      (config) => live && setOptions(config),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, []);
  return { options, error };
}

/** The IdP sign-in URL, coming back to `returnTo` (a path on this site). */
export function idpLoginHref(options: NonNullable<AuthPublicConfig['oidc']>, returnTo = '/'): string {
  return `${options.loginUrl}?${new URLSearchParams({ returnTo }).toString()}`;
}

/**
 * Signs out of Corral; after a sign-in through the IdP, also of the IdP (RP-initiated logout, when
 * the IdP offers it: auth's logout URL redirects there, or straight back to the sign-in page).
 */
export async function signOut(): Promise<void> {
  await api.auth.logout();
  if (localStorage.getItem(SIGNED_IN_VIA_IDP) !== '1') return;
  localStorage.removeItem(SIGNED_IN_VIA_IDP);
  const config = await api.auth.config().catch(() => undefined);
  if (config?.oidc) window.location.assign(config.oidc.logoutUrl);
}
