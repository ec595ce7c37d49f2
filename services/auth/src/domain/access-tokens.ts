import { randomUUID } from 'node:crypto';
import { AppError } from '@corral/service-kit';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { SigningKeys } from './signing-keys.js';

export type Role = 'admin' | 'user';

export interface AccessTokenSubject {
  id: string;
  email: string;
  role: Role;
  /** The user's revocation stamp: a new token is never dated before it, or it would be refused. */
  tokensValidAfter?: Date | null;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  email: string;
  role: Role;
  jti: string;
  /** The session (refresh-token family) the token belongs to; signing out revokes it. */
  sid?: string;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Signs and verifies the RS256 access tokens every service accepts. */
export class AccessTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly options: AccessTokenOptions,
  ) {}

  async issue(
    user: AccessTokenSubject,
    sessionId: string,
  ): Promise<{ token: string; expiresIn: number; jti: string }> {
    const signer = await this.keys.currentSigner();
    const jti = randomUUID();
    // `iat` has whole seconds: a token issued in the second of a revocation but after it is dated
    // the next second, so "issued before the stamp" stays exact.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const stampSeconds = user.tokensValidAfter ? Math.ceil(user.tokensValidAfter.getTime() / 1000) : 0;
    const token = await new SignJWT({ email: user.email, role: user.role, sid: sessionId })
      .setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt(Math.max(nowSeconds, stampSeconds))
      .setExpirationTime(nowSeconds + this.options.ttlSeconds)
      .sign(signer.privateKey);
    return { token, expiresIn: this.options.ttlSeconds, jti };
  }

  /** Verifies signature (RS256 only, published kid), iss, aud and exp; any failure is 401 invalid_token. */
  async verify(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.keys.verificationKey(header.kid);
          if (!key) throw new AppError('invalid_token', 'The token was signed by an unknown key.');
          return key;
        },
        { issuer: this.options.issuer, audience: this.options.audience, algorithms: ['RS256'] },
      );
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.email !== 'string' ||
        (payload.role !== 'admin' && payload.role !== 'user') ||
        typeof payload.jti !== 'string'
      ) {
        throw new AppError('invalid_token', 'The token is missing required claims.');
      }
      return payload as AccessTokenClaims;
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('invalid_token', 'The access token is invalid or expired.', { cause: error });
    }
  }
}
