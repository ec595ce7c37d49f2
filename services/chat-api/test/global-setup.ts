import { authTestEnv, dropSchema, schemaEnv, sql, startService, uniqueSchema } from '@corral/test-support';
import type { TestProject } from 'vitest/node';

export const SERVICE_TOKEN = 'chat-test-internal-service-token-0123456789';
export const ADMIN = { email: 'admin@chat.test', password: 'admin-password-123' };

declare module 'vitest' {
  export interface ProvidedContext {
    authUrl: string;
    serviceToken: string;
    admin: { email: string; password: string };
  }
}

/**
 * One real auth service for the whole run, as a child process in its own schema: tests sign users
 * in over HTTP and chat-api verifies their tokens against its JWKS and introspection endpoint.
 */
export default async function setup(project: TestProject) {
  // Created once up front: test files migrating in parallel would otherwise race on CREATE EXTENSION.
  await sql('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
  const schema = uniqueSchema('chat_auth');
  const auth = await startService('services/auth/src/index.ts', {
    env: {
      ...schemaEnv(schema),
      ...authTestEnv({ serviceToken: SERVICE_TOKEN, admin: ADMIN }),
      DEFAULT_USER_STATUS: 'active',
      // Many test users sign in from 127.0.0.1.
      LOGIN_MAX_FAILURES_PER_IP: '10000',
    },
  });
  project.provide('authUrl', auth.url);
  project.provide('serviceToken', SERVICE_TOKEN);
  project.provide('admin', ADMIN);

  return async () => {
    await auth.stop();
    await dropSchema(schema);
  };
}
