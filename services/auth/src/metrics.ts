import { type HttpMetrics, defineCounter, defineGauge } from '@corral/service-kit';

type Registry = HttpMetrics['registry'];

export interface AuthMetrics {
  signIns: ReturnType<typeof defineCounter<'outcome'>>;
  tokensIssued: ReturnType<typeof defineCounter<'kind'>>;
  activeSigningKeys: ReturnType<typeof defineGauge<never>>;
}

export type SignInOutcome = 'success' | 'invalid_credentials' | 'pending' | 'disabled' | 'throttled';

export function createAuthMetrics(registry: Registry): AuthMetrics {
  return {
    signIns: defineCounter(registry, 'corral_auth_sign_ins_total', 'Sign-in attempts by outcome.', [
      'outcome',
    ]),
    tokensIssued: defineCounter(
      registry,
      'corral_auth_tokens_issued_total',
      'Tokens issued, by kind (access, refresh, api_key).',
      ['kind'],
    ),
    activeSigningKeys: defineGauge<never>(
      registry,
      'corral_auth_signing_keys_published',
      'Signing keys in the JWKS (the active one plus retired keys that can still verify a live token).',
      [],
    ),
  };
}
