import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { Backend } from '../domain/backend.js';
import { Attempt, type AttemptResult, type RelayTarget } from './relay.js';

/** Relays `turns` (each a list of chunks delivered in one go, like one read of the backend) to a real client. */
async function relayThrough(turns: string[][]): Promise<{ body: string; result: AttemptResult }> {
  const backend = new Backend('b1', 'http://127.0.0.1:1', 10_000);
  let result: AttemptResult | undefined;
  const server = createServer((_req, res) => {
    const target = {
      gw: { health: { reportSuccess: () => {} } } as unknown as GatewayContext,
      res,
      started: process.hrtime.bigint(),
      controller: new AbortController(),
      countsTokens: false,
      stripUsageEvent: false,
      countTokens: () => {},
    } satisfies RelayTarget;
    const attempt = new Attempt(target, { backend, release: () => {} }, 'm', (r) => (result = r));
    attempt.onResponse(200, { 'content-type': 'application/x-ndjson' });
    const next = (index: number) => {
      const turn = turns[index];
      if (turn === undefined) {
        attempt.onEnd();
        return;
      }
      for (const chunk of turn) attempt.onData(Buffer.from(chunk));
      setImmediate(next, index + 1);
    };
    next(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      request({ port, host: '127.0.0.1', method: 'POST', path: '/' }, (res) => {
        expect(res.headers['transfer-encoding']).toBe('chunked');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    return { body, result: result as AttemptResult };
  } finally {
    server.close();
  }
}

describe('Attempt relaying a chunked answer', () => {
  it('keeps the bytes in order however the chunks fall into turns', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `{"n":${i}}\n`);
    const shapes = [
      [lines], // everything in one read
      lines.map((line) => [line]), // one line per read
      [lines.slice(0, 3), lines.slice(3, 4), lines.slice(4, 9), lines.slice(9)],
    ];
    for (const turns of shapes) {
      const { body, result } = await relayThrough(turns);
      expect(body).toBe(lines.join(''));
      expect(result).toEqual({ kind: 'relayed', outcome: 'ok' });
    }
  });
});
