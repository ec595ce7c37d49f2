import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './env.js';
import { freePort } from './ports.js';
import { TcpRelay } from './tcp-relay.js';

let echo: Server;
let echoUrl: string;
/** The echo server's side of every connection, to see the relay cut them. */
const upstreamSockets = new Set<Socket>();

beforeAll(async () => {
  echo = createServer((socket) => {
    upstreamSockets.add(socket);
    socket.on('close', () => upstreamSockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `tcp://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of upstreamSockets) socket.destroy();
  await new Promise((resolve) => echo.close(resolve));
});

async function connectTo(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Writes `payload` and reads until as many bytes came back. */
async function roundTrip(socket: Socket, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(payload);
  await done;
  return Buffer.concat(chunks);
}

describe('TcpRelay', () => {
  it('passes bytes both ways, unchanged, on a port of its own', async () => {
    const relay = new TcpRelay(echoUrl);
    await relay.open();
    try {
      expect(relay.port).toBeGreaterThan(0);
      expect(relay.url).toBe(`tcp://127.0.0.1:${relay.port}`);
      const socket = await connectTo(relay.port);
      const payload = Buffer.alloc(256 * 1024);
      for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 31) % 256;
      expect((await roundTrip(socket, payload)).equals(payload)).toBe(true);
      expect(relay.connections).toBe(1);
      socket.destroy();
      await expect.poll(() => relay.connections).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('close cuts open connections on both sides and refuses new ones; open listens again on the same port', async () => {
    const relay = new TcpRelay(echoUrl);
    await relay.open();
    const port = relay.port;
    const socket = await connectTo(port);
    expect((await roundTrip(socket, Buffer.from('before'))).toString()).toBe('before');
    expect(upstreamSockets.size).toBe(1);

    const clientClosed = once(socket, 'close');
    await relay.close();
    await clientClosed;
    await expect.poll(() => upstreamSockets.size).toBe(0);
    expect(relay.connections).toBe(0);
    const refused = connect(port, '127.0.0.1');
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');

    await relay.open();
    try {
      expect(relay.port).toBe(port);
      const again = await connectTo(port);
      expect((await roundTrip(again, Buffer.from('after'))).toString()).toBe('after');
      again.destroy();
    } finally {
      await relay.close();
    }
  });

  it('closes the client side when the target cannot be reached, rather than leaving it hanging', async () => {
    const relay = new TcpRelay(`redis://127.0.0.1:${await freePort()}`);
    await relay.open();
    try {
      const socket = await connectTo(relay.port);
      await once(socket, 'close');
      await expect.poll(() => relay.connections).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('keeps the target URL’s scheme, user, database and query, with its own host and port', () => {
    expect(new TcpRelay('postgresql://postgres@db.example:5432/test?sslmode=disable', 4321).url).toBe(
      'postgresql://postgres@127.0.0.1:4321/test?sslmode=disable',
    );
    expect(new TcpRelay('redis://:secret@cache:6380', 4322).url).toBe('redis://:secret@127.0.0.1:4322');
  });

  it('relays a real PostgreSQL session, and a closed relay is an outage to that client only', async () => {
    const relay = new TcpRelay(TEST_DATABASE_URL);
    await relay.open();
    const client = new pg.Client({ connectionString: relay.url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ answer: number }>('SELECT 41 + 1 AS answer');
      expect(rows).toEqual([{ answer: 42 }]);

      await relay.close();
      await expect(client.query('SELECT 1')).rejects.toThrow();
      // The database itself is still there for everyone else.
      const direct = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await direct.connect();
      expect((await direct.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await direct.end();
    } finally {
      await client.end().catch(() => undefined);
      await relay.close();
    }
  });
});
