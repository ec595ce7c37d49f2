import { hkdfSync } from 'node:crypto';
import { EncryptJWT, errors as joseErrors, jwtDecrypt } from 'jose';

/** One sign-in in progress at the IdP: what the callback must check, sealed into a short-lived cookie. */
export interface OidcFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Same-origin path to land on after signing in. */
  returnTo: string;
  /** Given at the start when registration needs a code: checked if this sign-in makes an account. */
  registrationCode?: string;
}

export type UnsealResult = { ok: true; flow: OidcFlow } | { ok: false; reason: 'expired' | 'invalid' };

const AUDIENCE = 'corral-oidc-flow';

/**
 * Seals flows with AES-256-GCM (a JWE, key derived from SIGNING_KEY_SECRET), so the browser holds
 * them without reading or changing them (the PKCE verifier stays secret) and every replica can
 * open them; `exp` bounds how long a sign-in at the IdP may take.
 */
export class OidcFlowSealer {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new Uint8Array(hkdfSync('sha256', secret, 'corral-auth', 'oidc-flow v1', 32));
  }

  seal(flow: OidcFlow): Promise<string> {
    return new EncryptJWT({ ...flow })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .encrypt(this.key);
  }

  async unseal(sealed: string): Promise<UnsealResult> {
    try {
      const { payload } = await jwtDecrypt(sealed, this.key, { audience: AUDIENCE });
      const { state, nonce, codeVerifier, returnTo } = payload;
      if (
        typeof state !== 'string' ||
        typeof nonce !== 'string' ||
        typeof codeVerifier !== 'string' ||
        typeof returnTo !== 'string'
      ) {
        return { ok: false, reason: 'invalid' };
      }
      const code = payload.registrationCode;
      return {
        ok: true,
        flow: {
          state,
          nonce,
          codeVerifier,
          returnTo,
          ...(typeof code === 'string' ? { registrationCode: code } : {}),
        },
      };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid' };
    }
  }
}

/**
 * `returnTo` as a same-origin path: a path ("/c/123"), or an absolute URL on PUBLIC_URL's origin.
 * Anything else (another origin, "//host", backslashes) is refused, so the callback never becomes an
 * open redirect.
 */
export function sameOriginPath(returnTo: string | undefined, publicUrl: string): string | undefined {
  if (returnTo === undefined || returnTo === '') return '/';
  if (returnTo.length > 2048 || returnTo.includes('\\')) return undefined;
  const base = new URL(publicUrl);
  let target: URL;
  try {
    target = new URL(returnTo, base);
  } catch {
    return undefined;
  }
  if (target.origin !== base.origin) return undefined;
  if (!returnTo.startsWith('/') && !returnTo.startsWith(base.origin)) return undefined;
  if (returnTo.startsWith('//')) return undefined;
  return `${target.pathname}${target.search}${target.hash}`;
}
