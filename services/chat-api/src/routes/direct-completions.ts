import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, type DirectRoute, setRequestUser, toAppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { admitRequest } from '../domain/admission.js';
import { completeChat } from './chat-completions.js';
import { sendOpenAiError } from './openai-errors.js';

const PATH = '/v1/chat/completions';
/** What express.json takes here (transfer.ts's JSON_TYPES): application/json and application/*+json. */
const JSON_MEDIA_TYPE = /^application\/(?:json|[^/;\s]+\+json)$/;

export interface DirectCompletionsOptions {
  /** BODY_LIMIT in bytes. */
  bodyLimit: number;
  /** CORS_ALLOW_ORIGIN is set: browsers' calls (they send Origin) need express's CORS headers. */
  cors: boolean;
}

/** `512kb`, `1mb` or bytes (envByteSize) as a number of bytes, as express's body parser reads it. */
export function byteSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(size.trim());
  if (!match) throw new Error(`invalid byte size: ${size}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/**
 * `POST /v1/chat/completions` answered before express (service-kit's withDirectRoutes): the same
 * steps as the express route — JSON body, credentials, rate limit, then completeChat, errors in
 * OpenAI's shape — without express's routing and body parsing, a large share of a short
 * completion's cost. It takes only the plain case: an uncompressed UTF-8 JSON body with a
 * Content-Length within BODY_LIMIT (what the SDKs send), and no cross-origin browser call when
 * CORS is on. Everything else (chunked, compressed, too large, odd types) goes to express.
 */
export function directChatCompletions(ctx: ChatContext, options: DirectCompletionsOptions): DirectRoute {
  return {
    method: 'POST',
    path: PATH,
    accepts: (req) => isPlainJsonCall(req, options),
    handle: (req, res) => void answer(ctx, req, res),
  };
}

function isPlainJsonCall(req: IncomingMessage, { bodyLimit, cors }: DirectCompletionsOptions): boolean {
  const { headers } = req;
  if (cors && headers.origin !== undefined) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = Number(headers['content-length']);
  if (!Number.isSafeInteger(length) || length < 0 || length > bodyLimit) return false;
  const [mediaType = '', ...params] = (headers['content-type'] ?? '').split(';');
  if (!JSON_MEDIA_TYPE.test(mediaType.trim().toLowerCase())) return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return /^"?utf-?8"?$/i.test(value.trim());
  });
}

async function answer(ctx: ChatContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const body = await readJson(req);
    const authenticated = await ctx.auth.authenticate(req.headers.authorization);
    setRequestUser(authenticated.userId);
    const { caller, headers: limitHeaders } = await admitRequest(ctx, authenticated);
    for (const [name, value] of Object.entries(limitHeaders)) res.setHeader(name, value);
    await completeChat(ctx, caller, body, res);
  } catch (error) {
    fail(ctx, req, res, error);
  }
}

/** What service-kit's error handler does for express routes, in OpenAI's wire format. */
function fail(ctx: ChatContext, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const appError = toAppError(error);
  if (appError.code === 'internal') {
    ctx.logger.error('unhandled error', { error: appError.cause ?? error, method: req.method, path: PATH });
  }
  if (appError.code === 'service_unavailable' && appError.cause !== undefined) {
    ctx.logger.warn('dependency unavailable', { error: appError.cause, method: req.method, path: PATH });
  }
  if (appError.code === 'client_closed_request') return;
  if (res.headersSent) {
    // A stream already started: the status line is gone, so end the connection rather than corrupt it.
    res.destroy();
    return;
  }
  sendOpenAiError(res, appError);
}

/** The body (Content-Length bytes, checked by `accepts`) parsed as express.json does: strict, `{}` when empty. */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () =>
      settle(() => {
        if (received !== Number(req.headers['content-length'])) {
          reject(new AppError('bad_request', 'request size did not match content length'));
          return;
        }
        try {
          resolve(parseStrictJson(Buffer.concat(chunks, received).toString('utf8')));
        } catch {
          reject(new AppError('malformed_json', 'The request body is not valid JSON.'));
        }
      });
    // An incoming body fails only when the client goes away (body-parser's `request.aborted`).
    const onGone = () =>
      settle(() => reject(new AppError('client_closed_request', 'The client closed the request.')));
    const onError = onGone;
    const onClose = onGone;
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

function parseStrictJson(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  // Like body-parser's `strict`: an object or an array, never a bare value.
  const first = body.trimStart()[0];
  if (first !== '{' && first !== '[') throw new SyntaxError('not an object or array');
  return JSON.parse(body) as unknown;
}
