import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@corral/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchImage, imageFromDataUrl, isRefusedAddress, sniffImage } from './images.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const limits = { maxBytes: 1024, timeoutMs: 5000, maxRedirects: 2 };

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/cat.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    if (path === '/page') return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
    if (path === '/fake.png') return res.writeHead(200, { 'content-type': 'image/png' }).end('not a png');
    if (path === '/big.png') {
      // No length: the cap must hold while reading.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      return res.end(Buffer.alloc(4096));
    }
    if (path.startsWith('/hop/')) {
      const n = Number(path.slice(5));
      return res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/cat.png' }).end();
    }
    return res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const open = { ...limits, allowPrivateAddresses: true };

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('isRefusedAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:a00:1',
  ])('refuses %s', (address) => expect(isRefusedAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111'])('allows %s', (address) =>
    expect(isRefusedAddress(address)).toBe(false),
  );
});

describe('images', () => {
  it('sniffs PNG and refuses other bytes', () => {
    expect(sniffImage(PNG)).toBe('image/png');
    expect(sniffImage(Buffer.from('GIF89a'))).toBeUndefined();
  });

  it('takes a data URL image as base64, refusing bad encodings and sizes', () => {
    expect(imageFromDataUrl(`data:image/png;base64,${PNG.toString('base64')}`, 'p', limits)).toBe(
      PNG.toString('base64'),
    );
    expect(() => imageFromDataUrl('data:image/png,rawbytes', 'p', limits)).toThrow(/base64/);
    expect(() => imageFromDataUrl('data:image/png;base64,@@@@', 'p', limits)).toThrow(/valid base64/);
    const big = Buffer.concat([PNG, Buffer.alloc(2048)]).toString('base64');
    expect(() => imageFromDataUrl(`data:image/png;base64,${big}`, 'p', limits)).toThrow(/larger/);
  });

  it('fetches an image over http, following bounded redirects', async () => {
    expect(await fetchImage(`${base}/cat.png`, 'p', open)).toBe(PNG.toString('base64'));
    expect(await fetchImage(`${base}/hop/1`, 'p', open)).toBe(PNG.toString('base64'));
    const error = await failure(fetchImage(`${base}/hop/5`, 'p', open));
    expect(error.message).toContain('too many redirects');
  });

  it('refuses a non-image type (400), non-image bytes (400), oversize (413) and a 404 (400)', async () => {
    expect((await failure(fetchImage(`${base}/page`, 'p', open))).status).toBe(400);
    expect((await failure(fetchImage(`${base}/fake.png`, 'p', open))).status).toBe(400);
    expect((await failure(fetchImage(`${base}/big.png`, 'p', open))).status).toBe(413);
    expect((await failure(fetchImage(`${base}/missing`, 'p', open))).status).toBe(400);
  });

  it('refuses the same server by IP literal and by a hostname resolving to it', async () => {
    const port = new URL(base).port;
    for (const url of [`${base}/cat.png`, `http://localhost:${port}/cat.png`]) {
      const error = await failure(fetchImage(url, 'p', limits));
      expect(error.status).toBe(400);
      expect(error.message).toContain('private, loopback or link-local');
    }
  });
});
