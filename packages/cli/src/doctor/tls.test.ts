// The TLS line against real TLS servers with certificates made here by openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTls } from './platform.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-doctor-tls-'));
const servers: https.Server[] = [];

function certificate(days: number): { key: string; cert: string } {
  const key = path.join(dir, `${days}.key`);
  const cert = path.join(dir, `${days}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

async function serve(days: number): Promise<{ url: string; cert: string }> {
  const pair = certificate(days);
  const server = https.createServer(pair, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://localhost:${(server.address() as AddressInfo).port}`, cert: pair.cert };
}

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('doctor: TLS certificate of PUBLIC_URL', () => {
  it('passes a trusted certificate with time left, warns under 21 days, fails under 7', async () => {
    const long = await serve(90);
    expect(await checkTls(long.url, false, long.cert)).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/\((89|90) days\)/),
    });
    const soon = await serve(14);
    expect(await checkTls(soon.url, false, soon.cert)).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('renew'),
    });
    const almost = await serve(3);
    expect(await checkTls(almost.url, false, almost.cert)).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('renew'),
    });
  });

  it('fails a certificate nobody trusts, and warns when PUBLIC_URL is plain http', async () => {
    const selfSigned = await serve(90);
    expect(await checkTls(selfSigned.url, false)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('not trusted'),
    });
    expect(await checkTls('http://chat.example.com', false)).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('TLS'),
    });
  });
});
