import { randomUUID } from 'node:crypto';
import { AppError } from '@corral/service-kit';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { SigningKeys } from './signing-keys.js';

export type Role = 'admin' | 'user';

export interface AccessTokenSubject {
  id: string;
  email: string;
  role: Role;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  email: string;
  role: Role;
  jti: string;
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

  async issue(user: AccessTokenSubject): Promise<{ token: string; expiresIn: number; jti: string }> {
    const signer = await this.keys.currentSigner();
    const jti = randomUUID();
    const token = await new SignJWT({ email: user.email, role: user.role })
      .setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(`${this.options.ttlSeconds}s`)
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
