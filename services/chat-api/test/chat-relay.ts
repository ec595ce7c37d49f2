import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A relay between chat-api and the sim that keeps every /api/chat body chat-api sent, as it went on the wire. */
export interface ChatRelay {
  url: string;
  /** The /api/chat request bodies, oldest first. */
  bodies: string[];
  close(): Promise<void>;
}

export async function startChatRelay(simUrl: string): Promise<ChatRelay> {
  const target = new URL(simUrl);
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/api/chat') bodies.push(body.toString('utf8'));
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
