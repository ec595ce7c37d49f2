import type { Response } from 'express';

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Plain `data:` line without an event name (the OpenAI format). */
  data(payload: string): void;
  end(): void;
  readonly closed: boolean;
}

const KEEPALIVE_MS = 15_000;

/** Counts open streams (a labelled prom-client gauge). */
export interface OpenStreamGauge {
  inc(): void;
  dec(): void;
}

/** Starts a text/event-stream response: no buffering by proxies, comment keep-alives while idle. */
export function openEventStream(res: Response, gauge?: OpenStreamGauge): EventStream {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  let closed = false;
  gauge?.inc();
  const keepAlive = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, KEEPALIVE_MS);
  keepAlive.unref();
  res.once('close', () => {
    closed = true;
    clearInterval(keepAlive);
    gauge?.dec();
  });
  return {
    send(event, data) {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    data(payload) {
      if (!closed) res.write(`data: ${payload}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (!closed) res.end();
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}
