import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http.js';
import { type RunningServer, startServer } from '../src/server.js';
import { kitWithCapturedLogs } from './helpers.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.shutdown('test over');
});

/** listen({ reusePort }) arrived in Node 22.12 and 23.1. */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** One request on a connection of its own (no keep-alive), so each is accepted anew. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/hello`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('HTTP_ACCEPT_SOCKETS', () => {
  it('listens with several sockets on one port, serves connections from each, and closes them all', async () => {
    const { kit, logLines } = kitWithCapturedLogs({
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '100',
      HTTP_ACCEPT_SOCKETS: '4',
    });
    const app = createHttpApp(kit, (routes) => {
      routes.get('/hello', (_req, res) => {
        res.json({ hello: 'world' });
      });
    });
    const server = await startServer(kit, app, { port: 0, handleSignals: false });
    running.push(server);

    if (hasReusePort) {
      expect(server.acceptSockets).toBe(4);
    } else {
      expect(server.acceptSockets).toBe(1);
      expect(logLines().some((line) => String(line.message).includes('SO_REUSEPORT'))).toBe(true);
    }
    // The kernel spreads new connections over the sockets by their addresses: 64 reach all four.
    const statuses = await Promise.all(Array.from({ length: 64 }, () => getOnNewConnection(server.url)));
    expect(statuses.every((status) => status === 200)).toBe(true);

    await server.shutdown('test over');
    running.length = 0;
    // Had one socket stayed open, the kernel would hand some connections to it.
    const attempts = await Promise.all(Array.from({ length: 32 }, () => refused(server.port)));
    expect(attempts.every(Boolean)).toBe(true);
  });

  it('refuses a port another instance already listens on, as one socket would (EADDRINUSE, not a shared port)', async () => {
    const settings = { HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '100', HTTP_ACCEPT_SOCKETS: '4' };
    const first = kitWithCapturedLogs(settings).kit;
    const server = await startServer(
      first,
      createHttpApp(first, () => {}),
      { port: 0, handleSignals: false },
    );
    running.push(server);
    const second = kitWithCapturedLogs(settings).kit;
    await expect(
      startServer(
        second,
        createHttpApp(second, () => {}),
        { port: server.port, handleSignals: false },
      ),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('keeps one socket when asked for one', async () => {
    const { kit } = kitWithCapturedLogs({ HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '100' });
    const app = createHttpApp(kit, () => {});
    const server = await startServer(kit, app, { port: 0, handleSignals: false, acceptSockets: 1 });
    running.push(server);
    expect(server.acceptSockets).toBe(1);
    expect(await getOnNewConnection(server.url)).toBe(404);
  });
});
