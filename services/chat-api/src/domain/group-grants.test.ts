import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@corral/service-kit';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupGrants } from './group-grants.js';

const USER = '6f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c';
const GRANTS = {
  userId: USER,
  groups: [
    {
      id: 'g1',
      name: 'Research',
      allowedModels: ['team-model'],
      requestsPerMinute: 5,
      dailyTokenBudget: null,
      maxConcurrentStreams: null,
    },
  ],
  restrictedModels: ['team-model'],
};

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A stand-in for auth's grants route answering `answer()` (status and body), counting calls. */
async function auth(answer: () => [number, unknown]): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  server = createServer((req, res) => {
    calls += 1;
    expect(req.headers.authorization).toBe('Bearer service-token');
    const [status, body] = answer();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, calls: () => calls };
}

const grantsFrom = (url: string, cacheMs: number) =>
  new GroupGrants({
    authUrl: url,
    serviceToken: 'service-token',
    cacheMs,
    timeoutMs: 2000,
    logger: createLogger({ service: 'test', level: 'error', stream: new PassThrough().resume() }),
  });

describe('GroupGrants', () => {
  it('asks auth once per cache period', async () => {
    const stub = await auth(() => [200, GRANTS]);
    const grants = grantsFrom(stub.url, 60_000);
    expect(await grants.of(USER)).toEqual(GRANTS);
    expect(await grants.of(USER)).toEqual(GRANTS);
    expect(stub.calls()).toBe(1);
  });

  it('keeps the last answer while auth fails, and refuses 503 without one', async () => {
    let status = 200;
    const stub = await auth(() => [status, status === 200 ? GRANTS : { code: 'internal' }]);
    const grants = grantsFrom(stub.url, 0);
    expect(await grants.of(USER)).toEqual(GRANTS);
    status = 500;
    expect(await grants.of(USER)).toEqual(GRANTS);
    await expect(grants.of('someone-else')).rejects.toMatchObject({ code: 'service_unavailable' });
    expect(stub.calls()).toBe(3);
  });

  it('treats an auth without the route (404, mid-upgrade) as no groups', async () => {
    const stub = await auth(() => [404, { code: 'not_found' }]);
    expect(await grantsFrom(stub.url, 0).of(USER)).toEqual({
      userId: USER,
      groups: [],
      restrictedModels: [],
    });
  });

  it('refuses 503 when an answer breaks the contract', async () => {
    const stub = await auth(() => [200, { userId: USER, groups: 'none' }]);
    await expect(grantsFrom(stub.url, 0).of(USER)).rejects.toMatchObject({ code: 'service_unavailable' });
  });
});
