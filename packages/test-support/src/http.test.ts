import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen, serveApp } from './http.js';

describe('listen', () => {
  it('serves the handler on 127.0.0.1 at the URL it gives', async () => {
    const served = await listen((req, res) => res.end(`you asked for ${req.url}`));
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${served.url}/hello`);
      expect(await res.text()).toBe('you asked for /hello');
    } finally {
      await served.close();
    }
  });

  it('close ends a response still streaming, and refuses new connections', async () => {
    const served = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
    });
    const streaming = new Promise<string>((resolve) => {
      request(served.url, (res) => {
        res.once('data', () => void served.close());
        res.once('close', () => resolve(res.complete ? 'complete' : 'cut'));
      }).end();
    });
    expect(await streaming).toBe('cut');
    await expect(fetch(served.url)).rejects.toThrow();
  });
});

describe('serveApp', () => {
  it('serves what build returns with the context it handed over, and shuts down after closing', async () => {
    const events: string[] = [];
    const app = await serveApp<{ greeting: string }>(
      async (onContext) => {
        const ctx = { greeting: 'hello from the context' };
        onContext(ctx);
        return (_req, res) => res.end(ctx.greeting);
      },
      async () => void events.push('shutdown'),
    );
    expect(app.ctx).toEqual({ greeting: 'hello from the context' });
    expect(await (await fetch(app.url)).text()).toBe('hello from the context');
    await app.close();
    expect(events).toEqual(['shutdown']);
    await expect(fetch(app.url)).rejects.toThrow();
  });

  it('fails when the app never hands over its context', async () => {
    await expect(
      serveApp(
        async () => (_req, res) => res.end(),
        async () => undefined,
      ),
    ).rejects.toThrow(/without handing over its context/);
  });
});
