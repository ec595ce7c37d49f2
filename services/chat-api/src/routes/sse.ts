import type { ServerResponse } from 'node:http';

export interface EventStream {
  /** `id`: the event's position, which a client that lost the stream sends back as Last-Event-ID. */
  send(event: string, data: unknown, id?: number): void;
  /** Plain `data:` line without an event name (the OpenAI format). */
  data(payload: string): void;
  end(): void;
  readonly closed: boolean;
}

const KEEPALIVE_MS = 15_000;
/**
 * Events written within this long of the last write go out together in one write. A model
 * slower than one token per interval gets every token sent at once; a fast one costs one socket
 * write (a system call and a packet) per interval instead of one per token.
 */
export const COALESCE_MS = 10;

/** Counts open streams (a labelled prom-client gauge). */
export interface OpenStreamGauge {
  inc(): void;
  dec(): void;
}

/**
 * Starts a text/event-stream response: no buffering by proxies, comment keep-alives while idle.
 * The headers go out with the first event (callers send one at once), in the same write. Plain
 * node:http, so routes answered with or without express share it.
 */
export function openEventStream(res: ServerResponse, gauge?: OpenStreamGauge): EventStream {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  let closed = false;
  let pending = '';
  let lastWriteAt = -Infinity;
  let flushTimer: NodeJS.Timeout | undefined;
  gauge?.inc();

  const flush = () => {
    flushTimer = undefined;
    lastWriteAt = performance.now();
    if (pending === '' || closed) return;
    const text = pending;
    pending = '';
    res.write(text);
  };
  const write = (text: string) => {
    if (closed) return;
    pending += text;
    if (flushTimer) return;
    const wait = lastWriteAt + COALESCE_MS - performance.now();
    if (wait <= 0) flush();
    else flushTimer = setTimeout(flush, wait);
  };

  const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEPALIVE_MS);
  keepAlive.unref();
  res.once('close', () => {
    closed = true;
    pending = '';
    clearTimeout(flushTimer);
    clearInterval(keepAlive);
    gauge?.dec();
  });
  return {
    send(event, data, id) {
      const idLine = id === undefined ? '' : `id: ${id}\n`;
      write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    data(payload) {
      write(`data: ${payload}\n\n`);
    },
    end() {
      clearTimeout(flushTimer);
      clearInterval(keepAlive);
      if (!closed) {
        const text = pending;
        pending = '';
        if (text === '') res.end();
        else res.end(text);
      }
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}
