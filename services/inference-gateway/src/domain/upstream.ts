import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';

export interface UpstreamTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

/** Shared connection pool to every backend; streaming responses are handed over unbuffered. */
export class UpstreamClient {
  readonly dispatcher: Agent;

  constructor(private readonly timeouts: UpstreamTimeouts) {
    this.dispatcher = new Agent({
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.firstByteMs,
      bodyTimeout: timeouts.idleMs,
      keepAliveTimeout: 30_000,
      pipelining: 1,
    });
  }

  /** Opens a request; resolves when the backend's status line and headers arrive. */
  open(
    url: string,
    options: {
      method: Dispatcher.HttpMethod;
      headers: Record<string, string>;
      body?: Buffer;
      signal: AbortSignal;
    },
  ): Promise<Dispatcher.ResponseData> {
    return request(url, {
      dispatcher: this.dispatcher,
      method: options.method,
      headers: options.headers,
      body: options.body,
      signal: options.signal,
    });
  }

  /**
   * Sends a request and hands the answer to `sink` as it arrives, straight from undici's parser:
   * no stream object and no promise per request, and each body chunk is delivered synchronously
   * (the first one in the same turn as the headers when they arrive together). The returned handle
   * pauses, resumes (backpressure) and aborts (closes the connection, so the backend stops).
   */
  stream(
    origin: string,
    path: string,
    options: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: Buffer },
    sink: UpstreamSink,
  ): UpstreamCall {
    const handler = new SinkHandler(sink);
    this.dispatcher.dispatch(
      { origin, path, method: options.method, headers: options.headers, body: options.body ?? null },
      handler,
    );
    return handler;
  }

  /** A small JSON GET with its own deadline (health checks, inventory, aggregated lists). */
  async getJson(url: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const response = await request(url, {
      dispatcher: this.dispatcher,
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`GET ${new URL(url).pathname} answered ${response.statusCode}`);
    }
    return response.body.json();
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** A short reason for logs and /admin/backends, without stack traces. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}

/** Receives one upstream answer; every callback runs synchronously inside undici's parser. */
export interface UpstreamSink {
  /** Status line and headers (final ones; 1xx are skipped). The body follows. */
  onResponse(statusCode: number, headers: IncomingHttpHeaders): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  /** A failure: before onResponse (connect, timeout) or after it (the body broke, or abort()). */
  onError(error: Error): void;
}

/** A request in flight. */
export interface UpstreamCall {
  pause(): void;
  resume(): void;
  /** Closes the connection; the sink's onError follows (unless it already ended). */
  abort(reason: Error): void;
}

class SinkHandler implements Dispatcher.DispatchHandler, UpstreamCall {
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private settled = false;

  constructor(private readonly sink: UpstreamSink) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200) return;
    this.sink.onResponse(statusCode, headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.sink.onData(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.sink.onEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.sink.onError(error);
  }

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  abort(reason: Error): void {
    if (this.settled) return;
    if (this.controller) this.controller.abort(reason);
    else this.abortReason = reason;
  }
}
