import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { baseEnvShape, createLogger, createServiceKit, loadConfig } from '@corral/service-kit';
import { webEnvShape } from '../server/config.js';

export const HASHED_JS = 'assets/index-Bx7kQ2a9.js';

/** A dist/client look-alike: index.html and one hashed asset. */
export function fakeBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'corral-web-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html><html><head><script type="module" src="/${HASHED_JS}"></script></head><body><div id="root"></div></body></html>`,
  );
  writeFileSync(path.join(dir, HASHED_JS), 'console.log("corral")');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

export function testKit(env: Record<string, string> = {}) {
  const config = loadConfig('web', { ...baseEnvShape, ...webEnvShape }, { LOG_LEVEL: 'error', ...env });
  return createServiceKit({
    name: 'web',
    config,
    logger: createLogger({ service: 'web', level: 'error', stream: new PassThrough().resume() }),
  });
}

export interface Upstream {
  url: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  /** Resolves the SSE stream's second half once the test has seen the first event. */
  releaseStream(): void;
  close(): Promise<void>;
}

/** A stand-in service that echoes what it received and can hold an SSE stream open mid-way. */
export async function startUpstream(name: string): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.endsWith('/stream')) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        res.write('event: token\ndata: {"text":"Hel"}\n\n');
        void released.then(() => {
          res.write('event: token\ndata: {"text":"lo"}\n\n');
          res.end('event: done\ndata: {"messageId":"m1"}\n\n');
        });
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Set-Cookie': 'corral_refresh=abc; Path=/api/auth',
      });
      res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    releaseStream: () => release(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
