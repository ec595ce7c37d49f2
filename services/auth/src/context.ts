import type { HttpMetrics, Logger } from '@corral/service-kit';
import type { Redis } from 'ioredis';
import type { AuthConfig } from './config.js';
import type { Database } from './data/db.js';
import { AccessTokens } from './domain/access-tokens.js';
import { AuditLog } from './domain/audit.js';
import { deriveKeyEncryptionKey } from './domain/crypto.js';
import { LoginThrottle } from './domain/login-throttle.js';
import { RegistrationThrottle } from './domain/registration-throttle.js';
import { RevocationPublisher } from './domain/revocation.js';
import { SigningKeys } from './domain/signing-keys.js';
import { type AuthMetrics, createAuthMetrics } from './metrics.js';

/** What routes and domain functions share: built once per app by createApp. */
export interface AuthContext {
  config: AuthConfig;
  logger: Logger;
  db: Database;
  keys: SigningKeys;
  accessTokens: AccessTokens;
  audit: AuditLog;
  throttle: LoginThrottle;
  registrations: RegistrationThrottle;
  revocations: RevocationPublisher;
  metrics: AuthMetrics;
}

export interface ContextParts {
  config: AuthConfig;
  logger: Logger;
  registry: HttpMetrics['registry'];
  db: Database;
  redis: Redis | undefined;
}

export function createAuthContext({ config, logger, registry, db, redis }: ContextParts): AuthContext {
  const metrics = createAuthMetrics(registry);
  const keys = new SigningKeys(db, {
    kek: deriveKeyEncryptionKey(config.SIGNING_KEY_SECRET),
    retainRetiredForSeconds: config.ACCESS_TOKEN_TTL_SECONDS + config.SIGNING_KEY_LEEWAY_SECONDS,
    onKeysLoaded: (count) => metrics.activeSigningKeys.set(count),
  });
  return {
    config,
    logger,
    db,
    keys,
    accessTokens: new AccessTokens(keys, {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    }),
    audit: new AuditLog(db, logger),
    throttle: new LoginThrottle({
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      accountWindowSeconds: config.LOGIN_ACCOUNT_WINDOW_SECONDS,
      maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
      ipWindowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
    }),
    registrations: new RegistrationThrottle({
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      maxPerIp: config.REGISTRATION_MAX_PER_IP,
      ipWindowSeconds: config.REGISTRATION_IP_WINDOW_SECONDS,
      maxGlobal: config.REGISTRATION_MAX_GLOBAL,
      globalWindowSeconds: config.REGISTRATION_GLOBAL_WINDOW_SECONDS,
    }),
    revocations: new RevocationPublisher(redis, config.REVOCATION_CHANNEL, logger),
    metrics,
  };
}
