import {
  ConfigError,
  type BaseConfig,
  envBoolean,
  envInt,
  envPort,
  envUrl,
  optionalSecret,
  secret,
} from '@corral/service-kit';
import { z } from 'zod';

const DAY = 86_400;

/** A comma-separated list (blanks dropped); unset = empty. */
const envList = () =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );

/** Everything auth reads from the environment; parsed once by runService (or loadConfig in tests and the CLI). */
export const authEnvShape = {
  PORT: envPort(5001),
  DATABASE_URL: envUrl('postgres')
    .default('postgresql://postgres@127.0.0.1:5432/corral?schema=auth')
    .describe('PostgreSQL URL; ?schema= picks the schema (auth).'),
  DATABASE_POOL_MAX: envInt(5, { min: 2, max: 1000 }).describe(
    'PostgreSQL connections per process (sign-ins are bound by scrypt, not the database). At least 2: an advisory lock holds one while the work under it queries.',
  ),
  REDIS_URL: envUrl('redis')
    .optional()
    .describe(
      'Redis for login throttling shared by replicas; unset = in-process counters (one replica only).',
    ),
  REDIS_KEY_PREFIX: z.string().min(1).default('corral:auth:'),
  REVOCATION_CHANNEL: z
    .string()
    .min(1)
    .default('corral:revocations')
    .describe('Redis pub/sub channel revocation stamps go out on (chat-api and the gateway listen).'),
  SIGNING_KEY_SECRET: secret({
    devDefault: 'corral-dev-signing-key-secret-not-for-production',
    description: 'Key-encryption secret: signing private keys are AES-256-GCM encrypted under it.',
  }),
  INTERNAL_SERVICE_TOKEN: secret({
    devDefault: 'corral-dev-internal-service-token-not-for-production',
    description: 'Bearer token other services present to POST /api/auth/introspect.',
  }),
  JWT_ISSUER: z.string().min(1).default('corral-auth'),
  JWT_AUDIENCE: z.string().min(1).default('corral'),
  PUBLIC_URL: z.url().optional().describe('External base URL, for openid-configuration endpoints.'),
  ACCESS_TOKEN_TTL_SECONDS: envInt(900, { min: 30, max: DAY }),
  REFRESH_TOKEN_TTL_SECONDS: envInt(14 * DAY, { min: 60, max: 365 * DAY }),
  SIGNING_KEY_LEEWAY_SECONDS: envInt(300, { max: DAY }).describe(
    'Extra time a retired key stays in the JWKS after the last token it signed expires (clock skew).',
  ),
  SIGNING_KEY_ROTATION_DAYS: envInt(0, { max: 3650 }).describe(
    'Rotate the signing key automatically when the active one is older than this; 0 = only on request.',
  ),
  JWKS_MAX_AGE_SECONDS: envInt(300, { max: DAY }),
  ENABLE_REGISTRATION: envBoolean(true).describe(
    'Anyone can register (POST /api/auth/register); false = admins create accounts.',
  ),
  REQUIRE_REGISTRATION_CODE: envBoolean(false).describe(
    'Registration needs REGISTRATION_CODE (which must then be set).',
  ),
  REGISTRATION_CODE: optionalSecret({
    minLength: 8,
    description: 'The code sign-ups must give; required when REQUIRE_REGISTRATION_CODE=true.',
  }),
  DEFAULT_USER_STATUS: z
    .enum(['pending', 'active'])
    .default('pending')
    .describe('Status of a self-registered account: pending = an admin approves it first.'),
  BOOTSTRAP_ADMIN_EMAIL: z
    .email()
    .optional()
    .describe('seed-admin creates this admin if missing; set with BOOTSTRAP_ADMIN_PASSWORD.'),
  BOOTSTRAP_ADMIN_PASSWORD: optionalSecret({
    description:
      'The bootstrap admin’s first password (asked to change it at first sign-in); with BOOTSTRAP_ADMIN_EMAIL.',
  }),
  BOOTSTRAP_ADMIN_API_KEY: optionalSecret({
    minLength: 42,
    description:
      'An sk-corral-… key seed-admin registers for the bootstrap admin (rotate-bootstrap-key replaces it).',
  }),
  AUTO_MIGRATE: envBoolean(false),
  COOKIE_SECURE: envBoolean(true).describe(
    'Secure flag on the refresh cookie; false only for plain-http dev.',
  ),
  PASSWORD_SCRYPT_LOG_N: envInt(15, { min: 10, max: 20 }).describe('scrypt cost: N = 2^this (r=8, p=1).'),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: envInt(5, { min: 1 }),
  LOGIN_ACCOUNT_WINDOW_SECONDS: envInt(60, { min: 1 }),
  LOGIN_MAX_FAILURES_PER_IP: envInt(50, { min: 1 }),
  LOGIN_IP_WINDOW_SECONDS: envInt(900, { min: 1 }),
  REGISTRATION_MAX_PER_IP: envInt(10, { min: 1 }).describe(
    'Registrations one client IP may make per window.',
  ),
  REGISTRATION_IP_WINDOW_SECONDS: envInt(3600, { min: 1 }),
  REGISTRATION_MAX_GLOBAL: envInt(200, { min: 1 }).describe(
    'Registrations from everyone together per window.',
  ),
  REGISTRATION_GLOBAL_WINDOW_SECONDS: envInt(3600, { min: 1 }),
  REFRESH_REUSE_GRACE_SECONDS: envInt(10, { max: 300 }).describe(
    'A refresh token presented again this soon after its exchange gets the same new refresh token (two tabs racing) instead of revoking the session.',
  ),
  PASSWORD_LOGIN_ENABLED: envBoolean(true).describe(
    'Email/password sign-in and registration; false = only the identity provider (OIDC_ISSUER_URL) signs people in (403 password_login_disabled). The corral CLI admin commands still work.',
  ),
  OIDC_ISSUER_URL: z
    .url()
    .optional()
    .describe(
      'The company identity provider (OpenID Connect issuer; discovery at /.well-known/openid-configuration). Set with OIDC_CLIENT_ID and PUBLIC_URL; the redirect URI to register is PUBLIC_URL/api/auth/oidc/callback.',
    ),
  OIDC_CLIENT_ID: z.string().min(1).optional().describe('Corral’s client id at the identity provider.'),
  OIDC_CLIENT_SECRET: optionalSecret({
    minLength: 1,
    description: 'Corral’s client secret at the identity provider (unset: a public client, PKCE only).',
  }),
  OIDC_SCOPES: z
    .string()
    .trim()
    .default('openid email profile')
    .refine((value) => value.split(/\s+/).includes('openid'), 'must include openid')
    .describe('Scopes asked for, space-separated (must include openid).'),
  OIDC_GROUPS_CLAIM: z
    .string()
    .min(1)
    .default('groups')
    .describe('The ID token / userinfo claim listing the user’s groups.'),
  OIDC_ADMIN_GROUPS: envList().describe(
    'Comma-separated groups whose members get the admin role; re-read at every sign-in (left the group = no longer admin). Empty: roles are managed in Corral.',
  ),
  OIDC_ALLOWED_GROUPS: envList().describe(
    'Comma-separated: only members of one of these groups may sign in through the identity provider. Empty: everyone the IdP signs in.',
  ),
  OIDC_BUTTON_LABEL: z
    .string()
    .trim()
    .min(1)
    .max(80)
    .default('Sign in with SSO')
    .describe('The sign-in page’s button text, e.g. "Sign in with Okta".'),
  OIDC_FLOW_TTL_SECONDS: envInt(600, { min: 30, max: 3600 }).describe(
    'How long a sign-in at the identity provider may take (state, nonce and PKCE verifier live this long).',
  ),
  OIDC_TIMEOUT_SECONDS: envInt(10, { min: 1, max: 120 }).describe(
    'Timeout of each request to the identity provider (discovery, token, userinfo).',
  ),
  API_KEY_LAST_USED_INTERVAL_SECONDS: envInt(60, { max: DAY }).describe(
    'Introspection writes last-used at most this often per key.',
  ),
} as const;

export type AuthConfig = BaseConfig & z.infer<z.ZodObject<typeof authEnvShape>>;

/** Rules that tie variables together; loadConfig checks each one alone. */
export function checkAuthConfig(config: AuthConfig): void {
  const problems: string[] = [];
  if (config.REQUIRE_REGISTRATION_CODE && !config.REGISTRATION_CODE) {
    problems.push('REGISTRATION_CODE: is required when REQUIRE_REGISTRATION_CODE=true');
  }
  if (Boolean(config.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(config.BOOTSTRAP_ADMIN_PASSWORD)) {
    problems.push('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD: set both or neither');
  }
  if (config.BOOTSTRAP_ADMIN_API_KEY && !config.BOOTSTRAP_ADMIN_EMAIL) {
    problems.push('BOOTSTRAP_ADMIN_API_KEY: needs BOOTSTRAP_ADMIN_EMAIL');
  }
  if (config.BOOTSTRAP_ADMIN_API_KEY && !config.BOOTSTRAP_ADMIN_API_KEY.startsWith('sk-corral-')) {
    problems.push('BOOTSTRAP_ADMIN_API_KEY: must start with sk-corral-');
  }
  if (Boolean(config.OIDC_ISSUER_URL) !== Boolean(config.OIDC_CLIENT_ID)) {
    problems.push('OIDC_ISSUER_URL and OIDC_CLIENT_ID: set both or neither');
  }
  if (config.OIDC_ISSUER_URL && !config.PUBLIC_URL) {
    problems.push('PUBLIC_URL: is required with OIDC_ISSUER_URL (the redirect URI is built from it)');
  }
  if (
    config.NODE_ENV === 'production' &&
    config.OIDC_ISSUER_URL?.startsWith('http:') &&
    !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(config.OIDC_ISSUER_URL)
  ) {
    problems.push('OIDC_ISSUER_URL: must be https in production');
  }
  if (!config.PASSWORD_LOGIN_ENABLED && !config.OIDC_ISSUER_URL) {
    problems.push('PASSWORD_LOGIN_ENABLED=false: needs OIDC_ISSUER_URL, else nobody can sign in');
  }
  if (problems.length > 0) throw new ConfigError('auth', problems);
}
