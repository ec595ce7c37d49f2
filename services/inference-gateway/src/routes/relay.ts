import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { openAiErrorBody } from '@corral/contracts';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import type { ErrorResponse } from '../domain/failover.js';
import type { Lease } from '../domain/router.js';
import { type UpstreamCall, type UpstreamSink, describeFailure } from '../domain/upstream.js';
import { UsageEventFilter } from '../domain/usage-event-filter.js';
import { UsageTap } from '../domain/usage-tap.js';
import type { RequestOutcome } from '../metrics.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are this connection's business, not the client's. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const MAX_ERROR_BODY_BYTES = 64 * 1024;

export function responseHeaders(
  upstream: IncomingHttpHeaders,
  backend: Backend,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = value;
  }
  headers['x-corral-backend'] = backend.id;
  return headers;
}

function isStreamingType(contentType: string | undefined): 'ndjson' | 'sse' | undefined {
  if (!contentType) return undefined;
  if (contentType.includes('ndjson')) return 'ndjson';
  if (contentType.includes('text/event-stream')) return 'sse';
  return undefined;
}

/** The closing line a broken stream ends with, so the caller knows and can keep what it has. */
function finalErrorLine(kind: 'ndjson' | 'sse', message: string, endsWithNewline: boolean): string {
  if (kind === 'ndjson')
    return `${endsWithNewline ? '' : '\n'}${JSON.stringify({ error: message, done: true })}\n`;
  const event = openAiErrorBody('bad_gateway', message);
  return `${endsWithNewline ? '' : '\n\n'}data: ${JSON.stringify(event)}\n\n`;
}

/** What one attempt on one backend came to. */
export type AttemptResult =
  | { kind: 'failed'; error: unknown }
  | { kind: 'server_error'; response: ErrorResponse }
  | { kind: 'relayed'; outcome: RequestOutcome };

/** The proxied request an attempt relays for: where the answer goes and what it counts. */
export interface RelayTarget {
  readonly gw: GatewayContext;
  readonly res: ServerResponse;
  readonly started: bigint;
  readonly controller: AbortController;
  /** Read token counts as the answer passes (generation routes). */
  readonly countsTokens: boolean;
  /** The gateway asked for /v1 usage on the client's behalf: the usage event is not passed on. */
  readonly stripUsageEvent: boolean;
  countTokens(
    model: string,
    backend: Backend,
    usage: { generated: number; prompt: number },
    live: number,
  ): void;
}

/**
 * One request to one backend, fed by undici's parser as the answer arrives. A 5xx answer's body is
 * read (bounded) so it can be passed on if no retry is left; anything else is relayed to the client
 * as it comes, each chunk written in the same turn it arrived, never held back.
 */
export class Attempt implements UpstreamSink {
  call: UpstreamCall | undefined;
  settled = false;
  private mode: 'headers' | 'error_body' | 'relay' = 'headers';
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private errorChunks: Buffer[] = [];
  private errorBytes = 0;
  // Relay state.
  private tap: UsageTap | undefined;
  private filter: UsageEventFilter | undefined;
  private streamKind: 'ndjson' | 'sse' | undefined;
  private lastByte = 10; // '\n'
  private wrote = false;
  private paused = false;
  private firstToken = true;

  constructor(
    private readonly request: RelayTarget,
    private readonly lease: Lease,
    private readonly model: string,
    private readonly done: (result: AttemptResult) => void,
  ) {}

  onResponse(statusCode: number, headers: IncomingHttpHeaders): void {
    this.lease.answered?.();
    this.statusCode = statusCode;
    this.headers = headers;
    if (statusCode >= 500) {
      this.mode = 'error_body';
      return;
    }
    this.mode = 'relay';
    const { res } = this.request;
    this.streamKind = isStreamingType(headers['content-type'] as string | undefined);
    const ok = statusCode === 200;
    if (this.request.countsTokens && ok) this.tap = new UsageTap(this.onLiveTokens);
    if (this.request.stripUsageEvent && ok && this.streamKind === 'sse') this.filter = new UsageEventFilter();
    const out = responseHeaders(headers, this.lease.backend);
    if (this.filter) delete out['content-length'];
    res.writeHead(statusCode, out);
    // The headers go out at once; when the first chunk came with them (the usual case), in one write.
    process.nextTick(flushHeadersIfIdle, this);
  }

  flushHeaders(): void {
    const { res } = this.request;
    if (!this.wrote && !res.writableEnded && !res.destroyed) res.flushHeaders();
  }

  onData(chunk: Buffer): void {
    if (this.settled) return;
    if (this.mode === 'relay') {
      this.relay(chunk);
      return;
    }
    if (this.mode !== 'error_body') return;
    this.errorBytes += chunk.length;
    if (this.errorBytes > MAX_ERROR_BODY_BYTES) {
      this.settleErrorBody(Buffer.concat(this.errorChunks));
      this.call?.abort(new Error('error body too large'));
      return;
    }
    this.errorChunks.push(chunk);
  }

  onEnd(): void {
    if (this.settled) return;
    if (this.mode === 'error_body') {
      this.settleErrorBody(Buffer.concat(this.errorChunks));
      return;
    }
    const { gw, res } = this.request;
    const backend = this.lease.backend;
    const usage = this.tap?.end();
    if (usage) this.request.countTokens(this.model, backend, usage, this.tap?.liveTokens ?? 0);
    gw.health.reportSuccess(backend);
    res.end(this.filter?.end());
    const status = this.statusCode;
    this.finish(status < 400 ? 'ok' : status < 500 ? 'client_error' : 'upstream_error');
  }

  onError(error: Error): void {
    if (this.settled) return;
    if (this.mode === 'headers') {
      this.settled = true;
      this.done({ kind: 'failed', error });
      return;
    }
    if (this.mode === 'error_body') {
      this.settleErrorBody(Buffer.alloc(0));
      return;
    }
    const { gw, res, controller } = this.request;
    const backend = this.lease.backend;
    if (controller.signal.aborted && !gw.drainSignal.aborted) {
      this.finish('cancelled');
      return;
    }
    const reason = gw.drainSignal.aborted ? 'the gateway is shutting down' : describeFailure(error);
    if (!gw.drainSignal.aborted) gw.health.reportFailure(backend, `stream broke: ${reason}`, 'stream');
    gw.logger.warn('stream broke after bytes were sent', { backend: backend.id, reason });
    if (this.streamKind && !res.destroyed) {
      res.end(finalErrorLine(this.streamKind, `backend stream ended early: ${reason}`, this.lastByte === 10));
    } else {
      res.destroy();
    }
    this.finish('stream_broken');
  }

  private relay(chunk: Buffer): void {
    this.tap?.push(chunk);
    const out = this.filter ? this.filter.push(chunk) : chunk;
    if (out.length === 0) return;
    this.lastByte = out[out.length - 1] ?? this.lastByte;
    this.wrote = true;
    const { res } = this.request;
    if (!res.write(out) && !this.paused) {
      // Backpressure: the client reads slower than the backend writes.
      this.paused = true;
      this.call?.pause();
      res.once('drain', this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    this.paused = false;
    this.call?.resume();
  };

  private readonly onLiveTokens = (count: number): void => {
    this.lease.backend.tokenRate.add(count);
    if (this.firstToken) {
      this.firstToken = false;
      const seconds = Number(process.hrtime.bigint() - this.request.started) / 1e9;
      this.request.gw.metrics.timeToFirstToken.observe({ model: this.model }, seconds);
    }
  };

  private settleErrorBody(body: Buffer): void {
    this.settled = true;
    this.errorChunks = [];
    this.done({
      kind: 'server_error',
      response: { statusCode: this.statusCode, headers: this.headers, body },
    });
  }

  private finish(outcome: RequestOutcome): void {
    this.settled = true;
    if (this.paused) this.request.res.off('drain', this.onDrain);
    this.lease.release();
    this.done({ kind: 'relayed', outcome });
  }
}

function flushHeadersIfIdle(attempt: Attempt): void {
  attempt.flushHeaders();
}
