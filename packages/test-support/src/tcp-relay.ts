import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { 'redis:': 6379, 'postgres:': 5432, 'postgresql:': 5432 };

/**
 * A TCP pass-through to a dependency (Redis, PostgreSQL) on a port of its own. A test points one
 * client at `url`, then closes the relay (every open connection cut, new ones refused) and opens it
 * again on the same port: the dependency going away and coming back for that client only.
 */
export class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private readonly target: URL;
  /** The relay's port: 0 until first opened (unless given), then the same on every open. */
  port: number;

  /** `target` is the dependency's URL (`redis://…`, `postgresql://…`); `port` 0 takes a free one. */
  constructor(target: string | URL, port = 0) {
    this.target = new URL(target);
    this.port = port;
  }

  async open(): Promise<void> {
    if (this.server) return;
    const host = this.target.hostname;
    const port = Number(this.target.port) || DEFAULT_PORTS[this.target.protocol];
    if (!port) throw new Error(`TcpRelay: no port in ${this.target.protocol} URL and no default for it`);
    const server = createServer((client) => {
      const upstream = connect(port, host);
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      // A connection that ends on one side ends on the other, as it would without the relay.
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Cuts every open connection and stops listening; `open()` listens again on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** The target's URL (scheme, credentials, path and query kept) with the relay's host and port. */
  get url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Client connections open through the relay right now. */
  get connections(): number {
    return this.clients.size;
  }
}
