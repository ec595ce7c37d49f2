import type { ServerResponse } from 'node:http';
import { problemDetails } from '@corral/contracts';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { contractCheck } from './contract-check.js';
import { type ListeningServer, listen } from './http.js';

const PROBLEM = {
  type: 'urn:corral:error:not_found',
  title: 'Not found',
  status: 404,
  detail: 'No such thing.',
  code: 'not_found',
};

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

/** A server whose answers are chosen by path: some keep their contract, some break it. */
async function serveChecked() {
  const check = contractCheck(
    [
      { method: 'GET', path: '/things/:id', body: z.object({ id: z.string() }) },
      {
        method: 'POST',
        path: '/things/:id/stream',
        body: null,
        events: { tick: z.object({ n: z.number() }) },
      },
      { method: 'GET', path: '/wire/*', body: null, errors: z.object({ error: z.string() }) },
    ],
    problemDetails,
  );
  const server = await listen(
    check.wrap((req, res) => {
      const answers: Record<string, () => void> = {
        '/things/1': () => send(res, 200, 'application/json', '{"id":"1"}'),
        '/things/2': () => send(res, 200, 'application/json', '{"id":2}'),
        '/things/3': () => send(res, 404, 'application/problem+json', JSON.stringify(PROBLEM)),
        '/things/4': () =>
          send(res, 404, 'application/problem+json', JSON.stringify({ ...PROBLEM, status: 400 })),
        '/things/5/stream': () =>
          send(res, 200, 'text/event-stream', 'event: tick\ndata: {"n":1}\n\nevent: tock\ndata: {}\n\n'),
        '/wire/x': () => send(res, 400, 'application/json', '{"error":"bad"}'),
        '/other': () => send(res, 200, 'application/json', '{}'),
      };
      (answers[req.url ?? ''] ?? (() => send(res, 500, 'text/plain', 'no')))();
    }),
  );
  return { check, server };
}

let server: ListeningServer | undefined;
afterEach(() => server?.close());

describe('contractCheck', () => {
  it('passes answers that keep their contract, whatever sent the request', async () => {
    const served = await serveChecked();
    server = served.server;
    for (const path of ['/things/1', '/things/3', '/wire/x']) await fetch(`${server.url}${path}`);
    await expect.poll(() => served.check.checked.size).toBe(3);
    expect(() => served.check.assertClean()).not.toThrow();
  });

  it('reports a body, a problem, an event and a route that break or lack a contract', async () => {
    const served = await serveChecked();
    server = served.server;
    await fetch(`${server.url}/things/2`);
    await fetch(`${server.url}/things/4`);
    await (await fetch(`${server.url}/things/5/stream`, { method: 'POST' })).text();
    await fetch(`${server.url}/other`);
    await expect.poll(() => served.check.violations.length).toBe(4);
    expect(served.check.violations.map((v) => v.problem)).toEqual([
      expect.stringContaining('id:'),
      expect.stringContaining('not_found is answered 404'),
      'an event "tock" the contract does not name',
      'JSON from a route with no contract',
    ]);
    expect(() => served.check.assertClean()).toThrow(/break their contract/);
    expect(served.check.violations).toEqual([]);
  });
});
