/** Workspace code the benches run in-process, and jose for the JWT baseline. */
export { createAuthenticator } from '@corral/auth-client';
export { migrate } from '@corral/db-migrate';
export * as jose from 'jose';
