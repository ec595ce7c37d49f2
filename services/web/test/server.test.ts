import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebServer } from '../server/app.js';
import { clientConfig } from '../server/client-config.js';
import { HASHED_JS, type Upstream, fakeBuild, startUpstream, testKit } from './server-helpers.js';

const staticDir = fakeBuild();

describe('static assets and SPA fallback', () => {
  const app = createWebServer(testKit(), { staticDir });

  it('serves index.html for / and client routes, never cached', async () => {
    for (const path of ['/', '/c/3f1c', '/settings/keys']) {
      const res = await request(app).get(path).set('Accept', 'text/html');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.text).toContain('<div id="root">');
    }
  });

  it('caches hashed assets for a year, immutable', async () => {
    const res = await request(app).get(`/${HASHED_JS}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-type']).toMatch(/javascript/);
  });

  it('revalidates unhashed files', async () => {
    const res = await request(app).get('/favicon.svg');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('answers 404 problem+json for a missing asset instead of the app shell', async () => {
    for (const path of ['/assets/index-deadbeef.js', '/missing.css', '/assets/']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('does not fall back for API paths when not proxying', async () => {
    const res = await request(app).get('/api/conversations');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'route_not_found' });
  });

  it('keeps health probes', async () => {
    const res = await request(app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', service: 'web' });
  });
});

describe('GET /config.json (what the SPA needs at run time)', () => {
  it('says what answers chat, from CORRAL_INFERENCE_KIND and _LABEL, never cached', async () => {
    const kit = testKit({
      CORRAL_INFERENCE_KIND: 'simulator',
      CORRAL_INFERENCE_LABEL: 'ollama-sim (SIMULATOR — replies are generated text, not a model)',
    });
    const app = createWebServer(kit, {
      staticDir,
      clientConfig: clientConfig({
        kind: kit.config.CORRAL_INFERENCE_KIND,
        label: kit.config.CORRAL_INFERENCE_LABEL,
      }),
    });
    const res = await request(app).get('/config.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual({
      inference: {
        kind: 'simulator',
        label: 'ollama-sim (SIMULATOR — replies are generated text, not a model)',
      },
    });
  });

  it('says nothing about inference when the variables are unset (behind the Ingress)', async () => {
    const res = await request(createWebServer(testKit(), { staticDir })).get('/config.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ inference: null });
  });

  it('refuses to start with an unknown CORRAL_INFERENCE_KIND, naming the variable', () => {
    expect(() => testKit({ CORRAL_INFERENCE_KIND: 'gpu' })).toThrow(/CORRAL_INFERENCE_KIND/);
  });
});

describe('security headers', () => {
  it('sends a strict CSP without inline scripts, no framing, no referrer', async () => {
    const app = createWebServer(testKit(), { staticDir });
    const res = await request(app).get('/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends HSTS only behind TLS announced by a trusted proxy', async () => {
    const trusting = createWebServer(testKit({ TRUST_PROXY: 'true' }), { staticDir });
    const overTls = await request(trusting).get('/').set('X-Forwarded-Proto', 'https');
    expect(overTls.headers['strict-transport-security']).toMatch(/max-age=31536000; includeSubDomains/);
    const plain = await request(trusting).get('/');
    expect(plain.headers['strict-transport-security']).toBeUndefined();

    const untrusting = createWebServer(testKit(), { staticDir });
    const spoofed = await request(untrusting).get('/').set('X-Forwarded-Proto', 'https');
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('local mode proxy', () => {
  let auth: Upstream;
  let chat: Upstream;
  let gateway: Upstream;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    [auth, chat, gateway] = await Promise.all([
      startUpstream('auth'),
      startUpstream('chat-api'),
      startUpstream('gateway'),
    ]);
    const app = createWebServer(testKit(), {
      staticDir,
      authUrl: auth.url,
      chatApiUrl: chat.url,
      gatewayUrl: gateway.url,
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await Promise.all([auth.close(), chat.close(), gateway.close()]);
  });

  it('routes paths the way the Ingress does, keeping the full path', async () => {
    const cases: Array<[string, string]> = [
      ['/api/auth/me', 'auth'],
      ['/.well-known/jwks.json', 'auth'],
      ['/api/conversations?limit=20', 'chat-api'],
      ['/v1/models', 'chat-api'],
      ['/admin/backends', 'gateway'],
      ['/admin/models/pull', 'gateway'],
    ];
    for (const [path, upstream] of cases) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ upstream, url: path });
    }
  });

  it('streams request bodies, cookies and auth headers through unchanged', async () => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: 'corral_refresh=old',
        Authorization: 'Bearer t',
        // A client's claim about its address is not passed on: auth throttles by what web saw.
        'X-Forwarded-For': '203.0.113.66',
      },
      body: JSON.stringify({ email: 'a@b.c', password: 'pw' }),
    });
    expect(await res.json()).toMatchObject({ body: '{"email":"a@b.c","password":"pw"}' });
    expect(res.headers.get('set-cookie')).toContain('corral_refresh=abc');
    const seen = auth.requests.at(-1);
    expect(seen?.headers.cookie).toBe('corral_refresh=old');
    expect(seen?.headers.authorization).toBe('Bearer t');
    expect(seen?.headers['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('passes Server-Sent Events through as they are written, not when the stream ends', async () => {
    const res = await fetch(`${base}/api/conversations/c1/stream`, { method: 'POST' });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    // The upstream holds the rest of the stream until we have seen the first event.
    while (!received.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended before the first event');
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toBe('event: token\ndata: {"text":"Hel"}\n\n');
    chat.releaseStream();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toContain('event: done');
  });

  it('answers 502 problem+json when an upstream is down', async () => {
    const down = createWebServer(testKit(), {
      staticDir,
      authUrl: 'http://127.0.0.1:1',
      chatApiUrl: 'http://127.0.0.1:1',
    });
    const res = await request(down).get('/api/conversations');
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'bad_gateway' });
  });

  it('a browser opening /admin/models (reload, bookmark) gets the SPA’s page; API calls still reach the gateway', async () => {
    for (const headers of [{ 'Sec-Fetch-Mode': 'navigate' }, { Accept: 'text/html,application/xhtml+xml' }]) {
      // supertest (node:http) sends only these headers; fetch would add its own Sec-Fetch-Mode: cors.
      const page = await request(base).get('/admin/models').set(headers);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<div id="root">');
    }
    const api = await request(base).get('/admin/models/pull').set('Sec-Fetch-Mode', 'cors');
    expect(api.body).toMatchObject({ upstream: 'gateway', url: '/admin/models/pull' });
  });

  it('without GATEWAY_URL (the chart without an Ingress) keeps /admin/* as the SPA’s pages', async () => {
    const inCluster = createWebServer(testKit(), { staticDir, authUrl: auth.url, chatApiUrl: chat.url });
    const page = await request(inCluster).get('/admin/models');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    const api = await request(inCluster).get('/api/admin/backends');
    expect(api.body).toMatchObject({ upstream: 'chat-api', url: '/api/admin/backends' });
  });

  it('still serves the SPA for non-API paths', async () => {
    const res = await fetch(`${base}/c/123`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });
});
