// corral doctor against a real `corral start`, then with one thing broken at a time (each broken
// through the doctor's own inputs or a process of this test's: the shared Redis and PostgreSQL stay up).
import path from 'node:path';
import axios from 'axios';
import { freePort, startService, type RunningService } from '@corral/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorralRun, readState, runCli, type RunState, tempHome, testEnv, type TestEnv } from './helpers.js';

const BOOT_MS = 180_000;
const RUNNING = /Corral is running: (http:\/\/localhost:\d+)/;

interface Check {
  check: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const { home, cleanup } = tempHome();
let env: TestEnv;
let run: CorralRun;
let state: RunState;

async function doctor(args: string[] = [], extra: Record<string, string> = {}) {
  const result = await runCli(['doctor', '--json', ...args], { ...env, ...extra });
  let report: { ok: boolean; checks: Check[] };
  try {
    report = JSON.parse(result.stdout) as typeof report;
  } catch {
    throw new Error(`corral doctor printed no JSON (exit ${result.code}): ${result.stderr}`);
  }
  const find = (name: string) => report.checks.find((check) => check.check === name);
  return { ...result, report, find };
}

beforeAll(async () => {
  env = await testEnv(home);
  run = new CorralRun({ ...env });
  await run.waitFor(RUNNING);
  state = readState(home);
}, BOOT_MS);

afterAll(async () => {
  await run?.stop();
  cleanup();
}, BOOT_MS);

describe('corral doctor on a healthy local run', () => {
  it('passes every line and exits 0', async () => {
    const { code, report, stderr } = await doctor();
    expect(code, stderr).toBe(0);
    const notPassing = report.checks.filter((check) => check.status !== 'pass');
    expect(notPassing).toEqual([]);
    const names = report.checks.map((check) => check.check);
    for (const name of [
      'service web',
      'service auth',
      'service chat-api',
      'service inference-gateway',
      'one version',
      'clock skew',
      'secret SIGNING_KEY_SECRET',
      'secret INTERNAL_SERVICE_TOKEN',
      'secret GATEWAY_SERVICE_TOKEN',
      'postgres connections',
      'postgres long queries',
      'postgres bloat',
      'signing key age',
      'redis',
      'ollama pool',
      'chat model',
      'embeddings model',
      'tls certificate',
    ]) {
      expect(names).toContain(name);
    }
    expect(report.checks.find((check) => check.check === 'embeddings model')?.detail).toContain(
      'nomic-embed-text',
    );
  });

  it('prints a line per check with its status, and never a secret value', async () => {
    const secrets = JSON.parse(
      (await import('node:fs')).readFileSync(path.join(home, 'secrets.json'), 'utf8'),
    ) as Record<string, string>;
    const result = await runCli(['doctor'], { ...env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS {2}service auth/m);
    expect(result.stdout).toMatch(/\d+ passed, 0 warnings, 0 failed/);
    for (const value of Object.values(secrets)) expect(result.stdout).not.toContain(value);
  });
});

describe('corral doctor names what is broken, with its fix', () => {
  it('a weak secret', async () => {
    const { code, find } = await doctor([], { INTERNAL_SERVICE_TOKEN: 'changeme' });
    expect(code).toBe(1);
    expect(find('secret INTERNAL_SERVICE_TOKEN')).toMatchObject({
      status: 'fail',
      detail: 'is a well-known value',
      fix: expect.stringContaining('openssl rand'),
    });
    const short = await doctor([], { SIGNING_KEY_SECRET: 'short-but-not-listed' });
    expect(short.find('secret SIGNING_KEY_SECRET')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/shorter than 32/),
    });
  });

  it('a Redis that does not answer', async () => {
    const closed = await freePort(); // nothing listens there
    const { code, find } = await doctor([], { REDIS_URL: `redis://127.0.0.1:${closed}` });
    expect(code).toBe(1);
    expect(find('redis')).toMatchObject({ status: 'fail', fix: expect.stringContaining('REDIS_URL') });
  });

  it('max_connections below the connection budget', async () => {
    const { code, find } = await doctor(['--replicas', 'auth=10,chat-api=20']);
    expect(code).toBe(1);
    expect(find('postgres connections')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('need 255'),
      fix: expect.stringContaining('raise max_connections'),
    });
  });

  describe('an empty Ollama pool', () => {
    let gateway: RunningService;
    const token = 'doctor-test-gateway-token-0123456789abcdef';

    beforeAll(async () => {
      gateway = await startService('services/inference-gateway/src/index.ts', {
        name: 'empty gateway',
        env: { OLLAMA_URLS: `http://127.0.0.1:${await freePort()}`, GATEWAY_SERVICE_TOKEN: token },
      });
    }, 90_000);

    afterAll(async () => {
      await gateway?.kill();
    });

    it('fails the pool and both model lines', async () => {
      const { code, find } = await doctor(['--gateway-url', gateway.url], { GATEWAY_SERVICE_TOKEN: token });
      expect(code).toBe(1);
      expect(find('ollama pool')).toMatchObject({ status: 'fail', detail: '1 backend(s), none healthy' });
      expect(find('chat model')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('/admin/models/pull'),
      });
      expect(find('embeddings model')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('nomic-embed-text'),
      });
    });
  });
});

describe('corral doctor --smoke', () => {
  it('sends a chat completion and an embedding through /v1 and leaves no usable key behind', async () => {
    const { code, find, stderr } = await doctor(['--smoke']);
    expect(code, stderr).toBe(0);
    expect(find('smoke chat')?.status).toBe('pass');
    expect(find('smoke embeddings')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('768-dimension'),
    });
    expect(find('smoke key revoked')?.status).toBe('pass');

    // Every key the admin owns is revoked: the smoke key is gone for good.
    const password = (await import('node:fs')).readFileSync(path.join(home, 'admin-password'), 'utf8').trim();
    const login = await axios.post(`${state.services.auth}/api/auth/login`, {
      email: 'admin@corral.local',
      password,
    });
    const keys = await axios.get(`${state.services.auth}/api/auth/api-keys`, {
      headers: { Authorization: `Bearer ${login.data.accessToken}` },
    });
    const items = keys.data.items as { name: string; revokedAt: string | null }[];
    const smokeKeys = items.filter((key) => key.name.startsWith('corral-doctor-smoke-'));
    expect(smokeKeys).toHaveLength(1);
    expect(smokeKeys.every((key) => key.revokedAt !== null)).toBe(true);
  });

  it('signs in with the password in CORRAL_ADMIN_PASSWORD_FILE (a mounted Secret, as helm test has it)', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = path.join(home, 'mounted-admin-password');
    const asMounted = { CORRAL_ADMIN_EMAIL: 'admin@corral.local', CORRAL_ADMIN_PASSWORD_FILE: file };
    writeFileSync(file, `${readFileSync(path.join(home, 'admin-password'), 'utf8').trim()}\n`);
    const good = await doctor(['--smoke'], asMounted);
    expect(good.code, good.stderr).toBe(0);
    expect(good.find('smoke key revoked')?.status).toBe('pass');

    // The file wins over the local run's password: a wrong one in it fails the sign-in.
    writeFileSync(file, 'not-the-admin-password-0123456789\n');
    const wrong = await doctor(['--smoke'], asMounted);
    expect(wrong.code).toBe(1);
    expect(wrong.find('smoke')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('signing in as admin@corral.local failed'),
    });

    const missing = await doctor(['--smoke'], { ...asMounted, CORRAL_ADMIN_PASSWORD_FILE: `${file}-absent` });
    expect(missing.find('smoke')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        `CORRAL_ADMIN_PASSWORD_FILE names ${file}-absent, which cannot be read`,
      ),
    });
  });

  it('makes the smoke key with an API key in CORRAL_ADMIN_API_KEY_FILE (as helm test has it with password sign-in off)', async () => {
    const { writeFileSync } = await import('node:fs');
    const issue = async (args: string[]) => {
      const result = await runCli(['create-api-key', '--user', 'admin@corral.local', ...args], { ...env });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    const bogus = await runCli(
      ['create-api-key', '--user', 'admin@corral.local', '--scopes', 'inference,root'],
      {
        ...env,
      },
    );
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('got "root"');

    const key = await issue(['--name', 'helm-test-doctor', '--scopes', 'keys,inference']);
    const file = path.join(home, 'mounted-admin-api-key');
    writeFileSync(file, `${key}\n`);
    // A wrong password: only the key can have made the smoke key.
    const asMounted = {
      CORRAL_ADMIN_API_KEY_FILE: file,
      CORRAL_ADMIN_PASSWORD: 'not-the-admin-password-0123456789',
    };
    const good = await doctor(['--smoke'], asMounted);
    expect(good.code, good.stderr).toBe(0);
    expect(good.find('smoke chat')?.status).toBe('pass');
    expect(good.find('smoke key revoked')?.status).toBe('pass');
    // The smoke key was made from that key, for /v1 only (not the keys scope it would inherit).
    const mine = await axios.get(`${state.services.auth}/api/auth/api-keys`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    const smokeKeys = (
      mine.data.items as { name: string; scopes: string[]; revokedAt: string | null }[]
    ).filter((item) => item.name.startsWith('corral-doctor-smoke-'));
    expect(smokeKeys).toHaveLength(1);
    expect(smokeKeys[0]).toMatchObject({ scopes: ['inference'], revokedAt: expect.any(String) });

    // An inference-only key cannot make keys: the smoke line says which scopes it needs.
    writeFileSync(file, `${await issue(['--name', 'inference-only'])}\n`);
    const narrow = await doctor(['--smoke'], asMounted);
    expect(narrow.code).toBe(1);
    expect(narrow.find('smoke')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('creating the smoke key failed'),
      fix: expect.stringContaining('keys and inference scopes'),
    });

    const missing = await doctor(['--smoke'], { ...asMounted, CORRAL_ADMIN_API_KEY_FILE: `${file}-absent` });
    expect(missing.find('smoke')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`CORRAL_ADMIN_API_KEY_FILE names ${file}-absent, which cannot be read`),
    });
  });
});
