import { StringDecoder } from 'node:string_decoder';
import { AppError } from '@corral/service-kit';
import type { Agent, Dispatcher } from 'undici';

/** Bytes read after the `done` chunk before the connection is given up (a well-behaved server sends none). */
const MAX_AFTER_DONE_BYTES = 64 * 1024;
/** Most of a refusal's body kept for its message. */
const MAX_REFUSAL_CHARS = 64 * 1024;

export interface ChatCall {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export interface ReplyParser<Done> {
  /** One NDJSON line; the final chunk's counts at `done`. May throw an AppError (a model failure). */
  line(line: string): Done | undefined;
  /** A non-200 answer, with its body text, mapped onto our catalog. */
  refusal(status: number, text: string): AppError;
}

/**
 * Sends a streamed chat call and reads its NDJSON reply as undici's parser delivers it (the
 * dispatch API): no stream object or promise per chunk, lines handed over synchronously. Resolves
 * at the `done` chunk; what follows it (the end of the chunked body) is still read, so the
 * connection goes back to the pool instead of being aborted. Rejects with an AppError, or with
 * the signal's reason once it is aborted (which closes the connection: the model stops).
 */
export function streamChat<Done>(agent: Agent, call: ChatCall, parser: ReplyParser<Done>): Promise<Done> {
  const { signal } = call;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let settled = false;
    let carry = '';
    let refusalText = '';
    let afterDone = 0;
    const decoder = new StringDecoder('utf8');

    const onAbort = () => controller?.abort(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown, before: 'reached' | 'dropped') => {
      if (settled) return;
      settle();
      if (signal.aborted) reject(signal.reason as Error);
      else if (error instanceof AppError) reject(error);
      else if (before === 'reached') {
        reject(new AppError('bad_gateway', 'The model server could not be reached.', { cause: error }));
      } else reject(new AppError('bad_gateway', 'The model server dropped the stream.', { cause: error }));
    };
    const take = (text: string) => {
      carry += text;
      let newline = carry.indexOf('\n');
      while (newline >= 0 && !settled) {
        const line = carry.slice(0, newline).trim();
        carry = carry.slice(newline + 1);
        if (line !== '') {
          const done = parser.line(line);
          if (done !== undefined) {
            settle();
            resolve(done);
          }
        }
        newline = carry.indexOf('\n');
      }
    };
    const incomplete = () =>
      new AppError('bad_gateway', 'The model server ended the stream before the reply was complete.');

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (signal.aborted) started.abort(signal.reason as Error);
      },
      onResponseStart(_controller, statusCode) {
        if (statusCode >= 200) status = statusCode;
      },
      onResponseData(current, chunk) {
        if (status !== 200) {
          if (refusalText.length < MAX_REFUSAL_CHARS) refusalText += chunk.toString('utf8');
          return;
        }
        if (settled) {
          afterDone += chunk.length;
          if (afterDone > MAX_AFTER_DONE_BYTES) current.abort(incomplete());
          return;
        }
        try {
          take(decoder.write(chunk));
        } catch (error) {
          fail(error, 'dropped');
          current.abort(error instanceof Error ? error : incomplete());
        }
      },
      onResponseEnd() {
        if (settled) return;
        if (status !== 200) {
          fail(parser.refusal(status, refusalText), 'dropped');
          return;
        }
        try {
          take(`${decoder.end()}\n`);
        } catch (error) {
          fail(error, 'dropped');
          return;
        }
        fail(incomplete(), 'dropped');
      },
      onResponseError(_controller, error) {
        fail(error, status === 0 ? 'reached' : 'dropped');
      },
    };
    agent.dispatch(
      { origin: call.origin, path: call.path, method: 'POST', headers: call.headers, body: call.body },
      handler,
    );
  });
}
