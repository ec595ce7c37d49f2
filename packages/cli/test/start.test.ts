import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import axios from 'axios';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorralRun,
  isAlive,
  readState,
  runCli,
  type RunState,
  tempHome,
  testEnv,
  type TestEnv,
} from './helpers.js';

const BOOT_MS = 180_000;
const RUNNING = /Corral is running: (http:\/\/localhost:\d+)/;
const PASSWORD = /password: (\S+)/;

const { home, cleanup } = tempHome();
let env: TestEnv;
let run: CorralRun;
let webUrl: string;
let password: string;
let state: RunState;

async function login(url: string, secret: string) {
  return axios.post(
    `${url}/api/auth/login`,
    { email: 'admin@corral.local', password: secret },
    { validateStatus: () => true },
  );
}

describe('corral start, first run', () => {
  beforeAll(async () => {
    env = await testEnv(home);
    run = new CorralRun({ ...env });
    webUrl = (await run.waitFor(RUNNING))[1] ?? '';
    password = (await run.waitFor(PASSWORD))[1] ?? '';
    state = readState(home);
  }, BOOT_MS);

  afterAll(async () => {
    await run?.stop();
  }, BOOT_MS);

  it('says which inference it uses, plainly', () => {
    expect(run.output).toContain('Inference: ollama-sim (SIMULATOR');
  });

  it('serves web on PORT and every service answers /readyz', async () => {
    expect(webUrl).toBe(`http://localhost:${env.PORT}`);
    for (const [name, url] of Object.entries(state.services)) {
      const response = await axios.get(`${url}/readyz`, { validateStatus: () => true });
      expect(response.status, `${name} /readyz`).toBe(200);
    }
    expect(Object.keys(state.services).sort()).toEqual(['auth', 'chat-api', 'inference-gateway', 'web']);
  });

  it('keeps the printed admin password in .corral/admin-password, private', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const file = path.join(home, 'admin-password');
    expect(readFileSync(file, 'utf8').trim()).toBe(password);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('signs the admin in through the web port', async () => {
    const response = await login(webUrl, password);
    expect(response.status).toBe(200);
    expect(response.data).toMatchObject({ user: { email: 'admin@corral.local', role: 'admin' } });
  });

  it('streams a chat completion with the openai SDK and a key made by `corral create-api-key`', async () => {
    const created = await runCli(['create-api-key', '--user', 'admin@corral.local', '--name', 'e2e'], {
      ...env,
    });
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk-corral-/);
    const openai = new OpenAI({ baseURL: `${webUrl}/v1`, apiKey: key });
    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      stream: true,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.trim().length).toBeGreaterThan(0);
  });

  it('`corral create-api-key` acts with an admin API key (CORRAL_ADMIN_API_KEY), as it must when password sign-in is off', async () => {
    const admin = (await login(webUrl, password)).data as { accessToken: string; user: { id: string } };
    const issued = await axios.post(
      `${webUrl}/api/auth/admin/users/${admin.user.id}/api-keys`,
      { name: 'cli-admin', scopes: ['admin'] },
      { headers: { Authorization: `Bearer ${admin.accessToken}` }, validateStatus: () => true },
    );
    expect(issued.status, JSON.stringify(issued.data)).toBe(201);
    const created = await runCli(
      ['create-api-key', '--user', 'admin@corral.local', '--name', 'by-admin-key'],
      {
        ...env,
        CORRAL_ADMIN_API_KEY: (issued.data as { key: string }).key,
        // A wrong password: only the key can have done it.
        CORRAL_ADMIN_PASSWORD: 'not-the-admin-password',
      },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toMatch(/^sk-corral-/);
  });

  it('counts failed sign-ins per client behind the web proxy: 50 from one address do not lock out another', async () => {
    // Two clients on this machine: 127.0.0.2 fails 50 times (the per-IP limit), 127.0.0.1 is the admin.
    const port = new URL(webUrl).port;
    const elsewhere = new http.Agent({ localAddress: '127.0.0.2' });
    const attempt = (email: string, secret: string, agent?: http.Agent) =>
      axios.post(
        `http://127.0.0.1:${port}/api/auth/login`,
        { email, password: secret },
        { validateStatus: () => true, ...(agent ? { httpAgent: agent } : {}) },
      );
    try {
      for (let i = 0; i < 50; i += 1) {
        expect((await attempt(`nobody-${i}@corral.local`, 'not-the-password', elsewhere)).status).toBe(401);
      }
      expect((await attempt('nobody-else@corral.local', 'not-the-password', elsewhere)).status).toBe(429);
      expect((await attempt('admin@corral.local', password)).status).toBe(200);
    } finally {
      elsewhere.destroy();
    }
  }, 180_000);

  it('reports every service ready with `corral status`', async () => {
    const status = await runCli(['status', '--json'], { ...env });
    expect(status.code, status.stderr).toBe(0);
    const body = JSON.parse(status.stdout) as { services: { ready: boolean }[]; backends: unknown[] };
    expect(body.services.every((service) => service.ready)).toBe(true);
    expect(body.backends).toHaveLength(1);
  });

  it('gives the gateway a service token kept in secrets.json: without it the gateway answers 401', async () => {
    const { readFileSync } = await import('node:fs');
    const secrets = JSON.parse(readFileSync(path.join(home, 'secrets.json'), 'utf8')) as {
      gatewayServiceToken?: string;
    };
    const token = secrets.gatewayServiceToken ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    const gateway = state.services['inference-gateway'];
    const tags = (headers: Record<string, string>) =>
      axios.get(`${gateway}/api/tags`, { headers, validateStatus: () => true });
    expect((await tags({})).status).toBe(401);
    expect((await tags({ Authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('`corral retention` counts with --dry-run, then deletes only conversations older than --days', async () => {
    const db = new pg.Client({ connectionString: state.databaseUrl });
    await db.connect();
    const titled = async (title: string) =>
      Number(
        (await db.query('SELECT count(*) AS n FROM chat.conversations WHERE title = $1', [title])).rows[0].n,
      );
    try {
      await db.query(
        `WITH c AS (
           INSERT INTO chat.conversations (id, user_id, title, model, updated_at)
           VALUES (gen_random_uuid(), 'someone', 'ancient', 'llama3.2', now() - interval '400 days') RETURNING id
         )
         INSERT INTO chat.messages (id, conversation_id, role, content) SELECT gen_random_uuid(), id, 'user', 'hi' FROM c`,
      );
      await db.query(
        "INSERT INTO chat.conversations (id, user_id, title, model) VALUES (gen_random_uuid(), 'someone', 'recent', 'llama3.2')",
      );

      const dry = await runCli(['retention', '--dry-run', '--days', '365'], { ...env });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout.trim()).toBe(
        'dry run: 1 conversation(s) with 1 message(s) older than 365 day(s) would be deleted',
      );
      expect(await titled('ancient')).toBe(1);

      const real = await runCli(['retention', '--days', '365'], { ...env });
      expect(real.code, real.stderr).toBe(0);
      expect(real.stdout.trim()).toBe('deleted 1 conversation(s) with 1 message(s) older than 365 day(s)');
      expect(await titled('ancient')).toBe(0);
      expect(await titled('recent')).toBe(1);

      const missing = await runCli(['retention'], { ...env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('set CHAT_RETENTION_DAYS or --days');
    } finally {
      await db.query("DELETE FROM chat.conversations WHERE title IN ('ancient', 'recent')");
      await db.end();
    }
  });

  it('backup then restore brings back the data as it was at backup time', async () => {
    const file = path.join(path.dirname(home), 'corral.dump');
    const backup = await runCli(['backup', file], { ...env });
    expect(backup.code, backup.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);

    const db = new pg.Client({ connectionString: state.databaseUrl });
    await db.connect();
    try {
      const count = async () =>
        Number(
          (await db.query('SELECT count(*) AS n FROM chat.conversations WHERE title = $1', ['after backup']))
            .rows[0].n,
        );
      await db.query(
        "INSERT INTO chat.conversations (id, user_id, title, model) VALUES (gen_random_uuid(), 'someone', 'after backup', 'llama3.2')",
      );
      expect(await count()).toBe(1);

      const restore = await runCli(['restore', file], { ...env });
      expect(restore.code, restore.stderr).toBe(0);
      expect(await count()).toBe(0);
    } finally {
      await db.end();
    }
    // The admin (in schema auth) is still there and can sign in.
    expect((await login(webUrl, password)).status).toBe(200);
  }, 60_000); // two CLI processes (tsx start-up each) and pg_dump/pg_restore

  it('stops everything on SIGINT and exits 0', async () => {
    const pids = Object.values(state.pids);
    expect(pids.length).toBe(5);
    expect(await run.stop()).toBe(0);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(path.join(home, 'lock'))).toBe(false);
  });
});

describe('corral start, second run on the same data', () => {
  let second: CorralRun;

  beforeAll(async () => {
    second = new CorralRun({ ...env });
    await second.waitFor(RUNNING);
    await second.waitFor(/Ctrl-C stops everything/);
  }, BOOT_MS);

  afterAll(async () => {
    await second?.stop();
    cleanup();
  }, BOOT_MS);

  it('does not print the password again, and says where it is', () => {
    expect(second.output).not.toContain(password);
    expect(second.output).toContain(`password in ${path.join(home, 'admin-password')}`);
  });

  it('reuses the data: the first run’s admin password still signs in', async () => {
    expect((await login(webUrl, password)).status).toBe(200);
  });

  it('exits 0 on SIGINT', async () => {
    expect(await second.stop()).toBe(0);
  });
});
