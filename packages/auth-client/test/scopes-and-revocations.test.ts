import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppError } from '@corral/service-kit';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationList, requireScope } from '../src/index.js';
import {
  SERVICE_TOKEN,
  type SigningKey,
  buildHarness,
  makeSigningKey,
  signAccessToken,
  startIntrospectionServer,
  startJwksServer,
} from './helpers.js';

let key: SigningKey;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let introspection: Awaited<ReturnType<typeof startIntrospectionServer>>;

beforeAll(async () => {
  key = await makeSigningKey('key-1');
  jwks = await startJwksServer([key.jwk]);
  introspection = await startIntrospectionServer();
});
afterAll(async () => {
  await jwks.close();
  await introspection.close();
});

/** A stand-in for auth's revocation feed that serves what a test puts in it. */
async function startFeed() {
  const items: { id: string; userId: string; sessionId: string | null; notBefore: number }[] = [];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    const after = new URL(req.url ?? '/', 'http://x').searchParams.get('after');
    const fresh = items.filter((item) => after === null || Number(item.id) > Number(after));
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ items: fresh, last: fresh.at(-1)?.id ?? after }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth/revocations`;
  return { url, items, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('requireScope', () => {
  it('lets a session through and an API key only with the scope', async () => {
    const { authenticator } = buildHarness({ jwksUrl: jwks.url, introspectionUrl: introspection.url });
    const app = express();
    app.get('/scoped', authenticator.requireAuth, requireScope('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    app.use((error: AppError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status).set(error.headers).json({ code: error.code });
    });
    const answer = (scopes: string[]) => ({
      active: true,
      sub: 'u1',
      role: 'admin',
      keyId: `k-${scopes.length}`,
      scopes,
    });
    introspection.setAnswer('sk-corral-inference-only', answer(['inference']));
    introspection.setAnswer('sk-corral-with-admin', answer(['inference', 'admin']));
    await request(app)
      .get('/scoped')
      .set('Authorization', `Bearer ${await signAccessToken(key)}`)
      .expect(200);
    const refused = await request(app).get('/scoped').set('Authorization', 'Bearer sk-corral-inference-only');
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="admin"');
    await request(app).get('/scoped').set('Authorization', 'Bearer sk-corral-with-admin').expect(200);
  });
});

describe('RevocationList', () => {
  it('polls the feed with the service token, and refuses tokens issued before a stamp or of a stamped session', async () => {
    const feed = await startFeed();
    const list = new RevocationList({
      feedUrl: feed.url,
      serviceToken: SERVICE_TOKEN,
      pollMs: 60_000,
      timeoutMs: 1000,
      channel: 'unused',
      retentionMs: 60_000,
      logger: { error: () => undefined, warn: () => undefined, debug: () => undefined },
    });
    try {
      const now = Date.now();
      feed.items.push({ id: '1', userId: 'u1', sessionId: null, notBefore: now });
      feed.items.push({ id: '2', userId: 'u2', sessionId: 's2', notBefore: now });
      await list.poll();
      expect(feed.seen[0]).toBe(`Bearer ${SERVICE_TOKEN}`);
      const before = Math.floor(now / 1000) - 1;
      expect(list.isTokenRevoked('u1', before, undefined)).toBe(true);
      expect(list.isTokenRevoked('u1', Math.ceil(now / 1000), undefined)).toBe(false);
      expect(list.isTokenRevoked('u2', before, 's2')).toBe(true);
      expect(list.isTokenRevoked('u2', before, 's3')).toBe(false);
      // The next poll asks only for what is new.
      feed.items.push({ id: '3', userId: 'u3', sessionId: null, notBefore: now });
      await list.poll();
      expect(list.isTokenRevoked('u3', before, undefined)).toBe(true);
    } finally {
      await list.close();
      await feed.close();
    }
  });
});
