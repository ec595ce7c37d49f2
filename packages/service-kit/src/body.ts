import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import iconv from 'iconv-lite';
import { AppError } from './errors.js';

/** The content encodings a body may come in (what express's body parsers inflate). */
const DECOMPRESSORS: Record<string, () => Transform> = {
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** What express.json takes: application/json and application/*+json. */
const JSON_MEDIA_TYPE = /^application\/(?:json|[^/;\s]+\+json)$/;

export interface BodyOptions {
  /** Most bytes accepted (BODY_LIMIT, see `byteSize`); a compressed body is held to it once inflated. */
  limit: number;
}

const tooLarge = () =>
  new AppError('payload_too_large', 'The request body is larger than this service accepts.');
const clientGone = () => new AppError('client_closed_request', 'The client closed the request.');

/**
 * Reads a request body into one Buffer, as express's body parsers do without their per-request
 * machinery: bounded by `limit` (a Content-Length past it is refused before a byte is read),
 * gzip, deflate and br bodies inflated with the inflated size bounded too. `undefined` when the
 * request has no body at all (neither Content-Length nor Transfer-Encoding). A single-chunk body
 * (the usual case) is not copied. Rejects with an AppError: payload_too_large, unsupported_media_type
 * (another encoding), bad_request (unreadable or not decompressible), client_closed_request.
 */
export function readBody(req: IncomingMessage, { limit }: BodyOptions): Promise<Buffer | undefined> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  const lengthHeader = req.headers['content-length'];
  const declared = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && DECOMPRESSORS[encoding] === undefined) {
    return Promise.reject(
      new AppError('unsupported_media_type', `unsupported content encoding "${encoding.slice(0, 40)}"`),
    );
  }
  if (encoding === 'identity' && declared > limit) {
    req.pause();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const decompressor = encoding === 'identity' ? undefined : DECOMPRESSORS[encoding]?.();
    const source: NodeJS.EventEmitter = decompressor ?? req;
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let received = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      req.off('error', onGone);
      req.off('close', onClose);
      if (decompressor) {
        req.unpipe(decompressor);
        decompressor.on('error', () => undefined);
        decompressor.destroy();
      }
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        settle(() => {
          req.pause();
          reject(tooLarge());
        });
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () =>
      settle(() => {
        if (!decompressor && !Number.isNaN(declared) && received !== declared) {
          reject(new AppError('bad_request', 'The request body could not be read.'));
          return;
        }
        resolve(chunks ? Buffer.concat(chunks, received) : (first ?? Buffer.alloc(0)));
      });
    // Only a decompressor fails on its own: the body is not what its Content-Encoding says.
    const onError = (error: Error) =>
      settle(() => {
        req.resume();
        reject(new AppError('bad_request', `The request body could not be decompressed: ${error.message}`));
      });
    // An incoming body fails only when the client goes away.
    const onGone = () => settle(() => reject(clientGone()));
    const onClose = () => {
      if (!req.complete) onGone();
    };
    source.on('data', onData);
    source.once('end', onEnd);
    if (decompressor) {
      decompressor.once('error', onError);
      req.pipe(decompressor);
    }
    req.once('error', onGone);
    req.once('close', onClose);
  });
}

/** Whether the request carries a body at all (RFC 9112 §6.3: a length or a transfer coding). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/** The media type and charset of a Content-Type header, lower-cased. */
function contentTypeOf(req: IncomingMessage): { mediaType: string; charset: string | undefined } {
  const [mediaType = '', ...params] = (req.headers['content-type'] ?? '').split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() === 'charset') charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { mediaType: mediaType.trim().toLowerCase(), charset };
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * 415 `unsupported_media_type` for a request that sends a body (a non-zero Content-Length or a
 * transfer coding), or names a content type, other than JSON (application/json or
 * application/*+json). Such a body used to be left unread and the request answered as if it had
 * none; an HTML form (the cross-site kind) can only send form types. A bodiless POST (Stop, say)
 * passes. GET, HEAD and OPTIONS are never checked. For express routes see `requireJsonBody`.
 */
export function assertJsonBody(req: IncomingMessage): void {
  if (BODYLESS_METHODS.has(req.method ?? 'GET')) return;
  const declared = req.headers['content-type'] !== undefined;
  const sent =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if ((declared || sent) && !JSON_MEDIA_TYPE.test(contentTypeOf(req).mediaType)) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json.');
  }
}

/**
 * A JSON body read and parsed as express.json does (strict: an object or an array; `{}` when
 * empty): `undefined` when there is no body or it is not JSON (express leaves such a body unread);
 * a charset other than UTF-8/16/32 is 415, a body that does not parse is malformed_json.
 */
export async function readJsonBody(req: IncomingMessage, options: BodyOptions): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  const { mediaType, charset = 'utf-8' } = contentTypeOf(req);
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    req.resume();
    return undefined;
  }
  const utf8 = charset === 'utf-8' || charset === 'utf8';
  if (!utf8 && (!charset.startsWith('utf-') || !iconv.encodingExists(charset))) {
    req.resume();
    throw new AppError(
      'unsupported_media_type',
      `unsupported charset "${charset.slice(0, 40).toUpperCase()}"`,
    );
  }
  const body = await readBody(req, options);
  if (body === undefined) return undefined;
  const text = utf8 ? body.toString('utf8') : iconv.decode(body, charset);
  return parseStrictJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = text.trimStart()[0];
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not an object or array');
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('malformed_json', 'The request body is not valid JSON.');
  }
}
