// With the Ingress off, `kubectl port-forward svc/<release>-web 3000:3000` must be the whole app.
// The web container is started here with the env the rendered chart gives it (helm template,
// ingress.enabled=false); the in-cluster Service names resolve to this run's auth and chat-api, as
// cluster DNS would. Signing in and streaming a reply go only through that one port.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT,
  childEnv,
  freePort,
  listeningUrl,
  startTsProcess,
  type TestProcess,
} from '@corral/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { corral } from './support/stack.js';

interface EnvVar {
  name: string;
  value?: string;
}
interface Rendered {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec?: { containers?: Array<{ name: string; env?: EnvVar[] }> } } };
}

/** The web container's env from `helm template` with the given --set pairs. */
function renderedWebEnv(set: string[]): Record<string, string> {
  const args = ['template', 'corral', path.join(REPO_ROOT, 'charts/corral'), '-n', 'corral'];
  for (const pair of set) args.push('--set', pair);
  const text = execFileSync('helm', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const objects = parseAllDocuments(text).map((doc) => doc.toJS() as Rendered | null);
  const web = objects.find((o) => o?.kind === 'Deployment' && o.metadata.name === 'corral-web');
  const container = web?.spec?.template?.spec?.containers?.find((c) => c.name === 'web');
  if (!container) throw new Error('the chart rendered no corral-web Deployment with a web container');
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
}

describe('Ingress off: one port-forward to web is a working app', () => {
  let web: TestProcess;
  let base: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = renderedWebEnv(['ingress.enabled=false']);
    const state = JSON.parse(readFileSync(path.join(corral().home, 'state.json'), 'utf8')) as {
      services: Record<string, string>;
    };
    // Cluster DNS: the chart's Service URLs point at this run's services.
    const dns: Record<string, string | undefined> = {
      'http://corral-auth:5001': state.services.auth,
      'http://corral-chat-api:5002': state.services['chat-api'],
    };
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, dns[value] ?? value]),
    );
    web = startTsProcess('services/web/server/index.ts', [], {
      name: 'web (chart env)',
      env: childEnv({
        ...resolved,
        // What `kubectl port-forward` would reach; 3000/9464 may be taken on this machine.
        PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
        HOST: '127.0.0.1',
      }),
    });
    base = await web.waitFor(listeningUrl, { timeoutMs: 60_000, what: 'the listening line' });
  });

  afterAll(async () => {
    await web?.stop();
  });

  it('the chart gives web the in-cluster upstreams only when the Ingress is off', () => {
    expect(env).toMatchObject({
      AUTH_URL: 'http://corral-auth:5001',
      CHAT_API_URL: 'http://corral-chat-api:5002',
    });
    expect(env.GATEWAY_URL).toBeUndefined();
    expect(renderedWebEnv([]).AUTH_URL).toBeUndefined();
  });

  it('signs in, reads the JWKS and streams a reply through web alone', async () => {
    const jwks = await fetch(`${base}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);

    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: corral().admin.email, password: corral().admin.password }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.getSetCookie().some((c) => c.startsWith('corral_refresh='))).toBe(true);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' };

    const created = await fetch(`${base}/api/conversations`, { method: 'POST', headers, body: '{}' });
    expect(created.status).toBe(201);
    const { conversation } = (await created.json()) as { conversation: { id: string } };

    const reply = await fetch(`${base}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { ...headers, Accept: 'text/event-stream' },
      body: JSON.stringify({ content: 'Is the gate shut?' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Read as it arrives: the first token must come before the stream ends.
    const reader = reply.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    let tokensBeforeDone = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
      if (!received.includes('event: done')) tokensBeforeDone = received.split('event: token').length - 1;
    }
    expect(tokensBeforeDone).toBeGreaterThan(1);
    expect(received).toMatch(/event: done\ndata: \{[^\n]*"status":"complete"/);

    const models = await fetch(`${base}/v1/models`, { headers });
    expect(models.status).toBe(200);
  });
});
