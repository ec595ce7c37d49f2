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
