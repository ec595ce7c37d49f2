import { type IncomingMessage, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { chatBody, usePoolPerTest, waitUntil } from './helpers.js';

const pool = usePoolPerTest();

describe('relaying to a client that reads slowly', () => {
  it('holds the stream while the client does not read, then delivers every token in order and ends it', async () => {
    // A reply of several MB, more than the loopback socket buffers hold: the gateway's writes to
    // the client back up, it pauses the backend's stream, and resumes it when the client drains.
    const tokens = 60_000;
    const sims = await pool.startSims(1, { models: ['llama3.2'], responseTokens: tokens });
    const gw = await pool.startGateway(sims);
    const body = JSON.stringify(chatBody('a long one'));
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${gw.url}/api/chat`, {
        method: 'POST',
        headers: { ...gw.headers, 'content-type': 'application/json' },
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    response.pause();
    // The sim has written its whole reply (it does not wait for its client); the gateway holds
    // what the client has not read.
    await waitUntil(() => sims[0]!.stats().activeStreams === 0, 'the sim finished writing');
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ done: true, eval_count: tokens });
    expect(lines.filter((line) => line.done === false)).toHaveLength(tokens);
  });
});
