// auth's image CLI (`node dist/cli.js …`, here from source) and `corral rotate-bootstrap-key`,
// run as an operator would: a separate process with only the database and secrets in its env
// (the auth Deployment sets no BOOTSTRAP_*).
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, childEnv } from '@corral/test-support';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, SERVICE_TOKEN, bearer, createActiveUser, useAuthStack } from './helpers.js';

const stack = useAuthStack();

/** The env of `kubectl exec deploy/corral-auth`: database and secrets, nothing about the admin. */
const podEnv = () =>
  childEnv(
    {
      DATABASE_URL: stack.auth.config.DATABASE_URL,
      INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
      LOG_LEVEL: 'error',
    },
    ['BOOTSTRAP_ADMIN_EMAIL', 'BOOTSTRAP_ADMIN_PASSWORD', 'BOOTSTRAP_ADMIN_API_KEY', 'NODE_ENV'],
  );

function run(entry: string, args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', entry, ...args],
    {
      cwd: REPO_ROOT,
      env: podEnv(),
      encoding: 'utf8',
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const introspect = (token: string) =>
  request(stack.auth.url).post('/api/auth/introspect').set(bearer(SERVICE_TOKEN)).send({ token });

interface Rotated {
  key: string;
  keyId: string;
  revoked: number;
}

describe('rotate-bootstrap-key', () => {
  it('issues a new key, revokes the previous one and prints the new key once (auth CLI, then corral)', async () => {
    const first = run('services/auth/src/cli.ts', ['rotate-bootstrap-key', '--email', ADMIN.email]);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout) as Rotated;
    expect(one.key).toMatch(/^sk-corral-/);
    expect(one.revoked).toBe(0);
    expect((await introspect(one.key)).body).toMatchObject({ active: true });

    const second = run('packages/cli/src/cli.ts', ['rotate-bootstrap-key', '--email', ADMIN.email]);
    expect(second.code, second.stderr).toBe(0);
    const two = JSON.parse(second.stdout) as Rotated;
    expect(two.key).not.toBe(one.key);
    expect(two.revoked).toBe(1);
    expect((await introspect(two.key)).body).toMatchObject({ active: true });
    expect((await introspect(one.key)).body).toMatchObject({ active: false });

    const audit = await request(stack.auth.url)
      .get('/api/auth/admin/audit?action=api_key.revoked')
      .set(bearer(stack.admin.accessToken));
    expect(JSON.stringify(audit.body)).toContain(one.keyId);
  });

  it('says whose key it needs when neither --email nor BOOTSTRAP_ADMIN_EMAIL is given (exit 2)', () => {
    const result = run('services/auth/src/cli.ts', ['rotate-bootstrap-key']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --email');
  });

  it('refuses an account that is not an admin, and issues nothing', async () => {
    const user = await createActiveUser(stack.auth.url, stack.admin);
    const result = run('services/auth/src/cli.ts', ['rotate-bootstrap-key', '--email', user.user.email]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not an admin');
    const keys = await request(stack.auth.url).get('/api/auth/api-keys').set(bearer(user.accessToken));
    expect(keys.body.items).toEqual([]);
  });
});
