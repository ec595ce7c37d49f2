import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { Backend } from './backend.js';
import { type UpstreamClient, describeFailure } from './upstream.js';

export interface PullResult {
  backend: string;
  status: 'success' | 'failed';
  error?: string;
}

export interface PullOptions {
  model: string;
  insecure?: boolean;
  signal: AbortSignal;
  /** Each progress object a backend sends, tagged with its id, as it arrives. */
  onProgress(line: Record<string, unknown>): void;
  /** A backend finished its pull: its inventory is read again before the summary. */
  onPulled(backend: Backend): Promise<void>;
}

/** The objects of an NDJSON body, as they arrive; lines that are not JSON objects are skipped. */
async function* ndjsonObjects(
  body: Dispatcher.ResponseData['body'],
): AsyncGenerator<Record<string, unknown>> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const parse = (line: string) => {
    try {
      const value: unknown = JSON.parse(line);
      return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  for await (const chunk of body) {
    pending += decoder.write(chunk as Buffer);
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const object = parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      if (object) yield object;
      newline = pending.indexOf('\n');
    }
  }
  const last = parse(pending + decoder.end());
  if (last) yield last;
}

/** Ollama's `/api/pull` on one backend: success only once it says so (it reports errors in-stream). */
async function pullOnto(
  backend: Backend,
  upstream: UpstreamClient,
  options: PullOptions,
): Promise<PullResult> {
  const failed = (error: string): PullResult => ({ backend: backend.id, status: 'failed', error });
  try {
    const body = { model: options.model, stream: true, ...(options.insecure ? { insecure: true } : {}) };
    const response = await upstream.open(`${backend.url}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: Buffer.from(JSON.stringify(body)),
      signal: options.signal,
    });
    let result: PullResult | undefined;
    for await (const object of ndjsonObjects(response.body)) {
      options.onProgress({ backend: backend.id, ...object });
      if (typeof object.error === 'string') result = failed(object.error);
      else if (object.status === 'success' && response.statusCode === 200)
        result = { backend: backend.id, status: 'success' };
    }
    if (!result) return failed(`answered ${response.statusCode} without reporting success`);
    if (result.status === 'success') await options.onPulled(backend).catch(() => undefined);
    return result;
  } catch (error) {
    return failed(options.signal.aborted ? 'cancelled' : describeFailure(error));
  }
}

/** Pulls one model onto every given backend at once; never throws, one result per backend. */
export function pullEverywhere(
  backends: Backend[],
  upstream: UpstreamClient,
  options: PullOptions,
): Promise<PullResult[]> {
  return Promise.all(backends.map((backend) => pullOnto(backend, upstream, options)));
}
