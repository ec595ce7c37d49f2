import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createWebServer } from '../server/app.js';
import { acceptedEncodings } from '../server/precompressed.js';
import { HASHED_JS, fakeBuild, testKit } from './server-helpers.js';

// A build with one large script, precompressed by the build's own step (scripts/precompress.ts).
const staticDir = fakeBuild();
const SCRIPT = 'assets/Markdown-Zx81kQ2a.js';
const source = `export const words = ${JSON.stringify(Array.from({ length: 2000 }, (_, i) => `word${i % 97}`))};\n`;

/** The bytes as they went over the wire (node:http does not decode them), with the headers. */
async function raw(urlPath: string, acceptEncoding: string) {
  const server = createWebServer(testKit(), { staticDir }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      get(
        { port, host: '127.0.0.1', path: urlPath, headers: { 'accept-encoding': acceptEncoding } },
        resolve,
      ).on('error', reject),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk);
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  } finally {
    server.close();
  }
}

writeFileSync(path.join(staticDir, SCRIPT), source);
execFileSync(process.execPath, ['--import', 'tsx', 'scripts/precompress.ts', staticDir], {
  cwd: path.resolve(import.meta.dirname, '..'),
});

describe('precompressed static assets', () => {
  it('serves the Brotli copy to a browser that takes br, with its type, encoding and Vary', async () => {
    const res = await raw(`/${SCRIPT}`, 'gzip, deflate, br, zstd');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-type']).toMatch(/^text\/javascript|^application\/javascript/);
    expect(res.headers.vary).toMatch(/Accept-Encoding/i);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const body = res.body;
    expect(body.length).toBeLessThan(source.length / 4);
    expect(brotliDecompressSync(body).toString()).toBe(source);
  });

  it('serves gzip when that is all the client takes, and identity when it takes neither', async () => {
    const gz = await raw(`/${SCRIPT}`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(source);

    for (const header of ['identity', 'br;q=0, gzip;q=0', '*;q=0']) {
      const plain = await raw(`/${SCRIPT}`, header);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
      expect(plain.body.toString()).toBe(source);
    }
  });

  it('leaves files without a compressed copy (tiny ones) to the plain static route', async () => {
    const res = await raw(`/${HASHED_JS}`, 'br, gzip');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString()).toBe(readFileSync(path.join(staticDir, HASHED_JS), 'utf8'));
  });

  it('reads Accept-Encoding as RFC 9110 does: q-values and *', () => {
    expect(acceptedEncodings('gzip, deflate, br', ['br', 'gzip'])).toEqual(['br', 'gzip']);
    expect(acceptedEncodings('br;q=0, *', ['br', 'gzip'])).toEqual(['gzip']);
    expect(acceptedEncodings('GZIP;q=0.5', ['br', 'gzip'])).toEqual(['gzip']);
    expect(acceptedEncodings(undefined, ['br', 'gzip'])).toEqual([]);
  });
});
