export {
  assertScope,
  createAuthenticator,
  requireRole,
  requireScope,
  requireSession,
  type Authenticator,
  type AuthenticatorOptions,
} from './authenticator.js';
export { API_KEY_PREFIX } from './introspection.js';
export { RevocationList, type RevocationStamp, type RevocationSubscriberSource } from './revocations.js';
export {
  ROLES,
  SCOPES,
  isRole,
  type AuthLogger,
  type AuthPrincipal,
  type Role,
  type Scope,
} from './types.js';
