import type { Logger } from '@corral/service-kit';
import * as oidc from 'openid-client';
import type { AuthConfig } from '../config.js';
import type { OidcFlow } from './oidc-flow.js';

export const OIDC_CALLBACK_PATH = '/api/auth/oidc/callback';

/** Why talking to the IdP failed, in the terms the error page uses. */
export class OidcFailure extends Error {
  constructor(
    readonly reason: 'idp_unreachable' | 'idp_error' | 'sign_in_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The claims Corral reads from the ID token, completed from userinfo when the token lacks them. */
export interface OidcClaims {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  groups: string[];
  idToken: string;
}

/**
 * Corral as an OpenID Connect relying party (openid-client): discovery (cached once it succeeds,
 * retried on the next sign-in when it failed), the authorization URL with PKCE, state and nonce,
 * and the code exchange, which verifies the ID token (issuer, audience, expiry, nonce, signature
 * against the IdP's JWKS).
 */
export class OidcRelyingParty {
  private discovered: Promise<oidc.Configuration> | undefined;
  readonly redirectUri: string;

  constructor(
    private readonly config: AuthConfig & {
      OIDC_ISSUER_URL: string;
      OIDC_CLIENT_ID: string;
      PUBLIC_URL: string;
    },
    private readonly logger: Logger,
  ) {
    this.redirectUri = `${config.PUBLIC_URL.replace(/\/$/, '')}${OIDC_CALLBACK_PATH}`;
  }

  get issuerUrl(): string {
    return this.config.OIDC_ISSUER_URL;
  }

  private configuration(): Promise<oidc.Configuration> {
    this.discovered ??= this.discover().catch((error: unknown) => {
      this.discovered = undefined;
      throw error;
    });
    return this.discovered;
  }

  private async discover(): Promise<oidc.Configuration> {
    const { config } = this;
    const insecure = config.OIDC_ISSUER_URL.startsWith('http:');
    try {
      const configuration = await oidc.discovery(
        new URL(config.OIDC_ISSUER_URL),
        config.OIDC_CLIENT_ID,
        config.OIDC_CLIENT_SECRET ? { client_secret: config.OIDC_CLIENT_SECRET } : undefined,
        config.OIDC_CLIENT_SECRET ? undefined : oidc.None(),
        {
          timeout: config.OIDC_TIMEOUT_SECONDS,
          // http only for a development IdP; production refuses it at start (config check).
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
      configuration.timeout = config.OIDC_TIMEOUT_SECONDS;
      return configuration;
    } catch (error) {
      this.logger.warn('OIDC discovery failed', { issuer: config.OIDC_ISSUER_URL, error });
      throw new OidcFailure('idp_unreachable', 'The identity provider could not be reached.', {
        cause: error,
      });
    }
  }

  /** A new flow and the IdP URL to send the browser to. */
  async startSignIn(
    returnTo: string,
    registrationCode: string | undefined,
  ): Promise<{ url: URL; flow: OidcFlow }> {
    const configuration = await this.configuration();
    const flow: OidcFlow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo,
      ...(registrationCode ? { registrationCode } : {}),
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.OIDC_SCOPES,
      response_type: 'code',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, flow };
  }

  /** Exchanges the code from the callback URL and reads the claims (userinfo when the ID token lacks some). */
  async finishSignIn(callbackUrl: URL, flow: OidcFlow): Promise<OidcClaims> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.failure(error);
    }
    const idClaims = tokens.claims();
    const idToken = tokens.id_token;
    if (!idClaims || !idToken)
      throw new OidcFailure('sign_in_failed', 'The identity provider sent no ID token.');
    let claims: Record<string, unknown> = { ...idClaims };
    const groupsClaim = this.config.OIDC_GROUPS_CLAIM;
    if (claims.email === undefined || claims[groupsClaim] === undefined) {
      const hasUserinfo = Boolean(configuration.serverMetadata().userinfo_endpoint);
      if (hasUserinfo) {
        try {
          const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
          claims = { ...userinfo, ...claims };
          for (const key of ['email', 'email_verified', 'name', groupsClaim]) {
            if (claims[key] === undefined && userinfo[key] !== undefined) claims[key] = userinfo[key];
          }
        } catch (error) {
          throw this.failure(error);
        }
      }
    }
    return {
      issuer: idClaims.iss,
      subject: idClaims.sub,
      email: typeof claims.email === 'string' && claims.email.length > 0 ? claims.email : null,
      emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      name: typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : null,
      groups: readGroups(claims[groupsClaim]),
      idToken,
    };
  }

  /** Where to send the browser to end the IdP session too, or undefined when it offers no end_session_endpoint. */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<URL | undefined> {
    const configuration = await this.configuration();
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, {
      client_id: this.config.OIDC_CLIENT_ID,
      post_logout_redirect_uri: postLogoutRedirectUri,
    });
  }

  private failure(error: unknown): OidcFailure {
    if (error instanceof OidcFailure) return error;
    if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError) {
      this.logger.warn('the identity provider refused the sign-in', {
        error: error.error,
        description: error.error_description,
      });
      return new OidcFailure('idp_error', `The identity provider answered: ${error.error}.`, {
        cause: error,
      });
    }
    const code = (error as { code?: unknown }).code;
    if (code === 'OAUTH_TIMEOUT' || error instanceof TypeError || (error as Error).name === 'TimeoutError') {
      return new OidcFailure('idp_unreachable', 'The identity provider could not be reached.', {
        cause: error,
      });
    }
    this.logger.warn('OIDC sign-in failed', { error });
    return new OidcFailure('sign_in_failed', 'The identity provider’s answer did not check out.', {
      cause: error,
    });
  }
}

/** The groups claim as a list: an array of strings, or one string (some IdPs send one group bare). */
export function readGroups(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((item): item is string => typeof item === 'string' && item.length > 0))];
}
