export {
  createAuthenticator,
  requireRole,
  type Authenticator,
  type AuthenticatorOptions,
} from './authenticator.js';
export { API_KEY_PREFIX } from './introspection.js';
export { ROLES, isRole, type AuthLogger, type AuthPrincipal, type Role } from './types.js';
