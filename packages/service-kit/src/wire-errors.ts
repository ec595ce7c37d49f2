import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AppError, toAppError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Writes one error answer in one wire format: the error's status and headers, then its body.
 * `requestId` is the X-Request-Id this response carries (set before any route runs).
 */
export type ErrorRenderer = (res: ServerResponse, error: AppError, requestId: string | undefined) => void;

/** Builds a wire format's error body (e.g. OpenAI's `{"error":{…}}`) from an AppError. */
export type ErrorBody = (error: AppError, requestId: string | undefined) => unknown;

function writeError(res: ServerResponse, error: AppError, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** RFC 9457 problem+json: Corral's own format, and the default for every route. */
export const renderProblem: ErrorRenderer = (res, error, requestId) =>
  writeError(res, error, 'application/problem+json; charset=utf-8', error.toProblem(requestId));

/**
 * OpenAI's wire format, served as application/json (the SDKs pick their exception class by the
 * status and read `error.type`/`error.code` from the body). The service passes the body builder:
 * the one OpenAI error body lives with the service's contracts, not here.
 */
export function openAiRenderer(body: ErrorBody): ErrorRenderer {
  return (res, error, requestId) =>
    writeError(res, error, 'application/json; charset=utf-8', body(error, requestId));
}

/**
 * Ollama's wire format: `error` as a string (what the `ollama` client raises), beside the problem
 * fields so Corral's own callers still read `code` and `requestId`; application/json, because the
 * `ollama` client parses error bodies of that type only.
 */
export const renderOllamaError: ErrorRenderer = (res, error, requestId) =>
  writeError(res, error, 'application/json; charset=utf-8', {
    ...error.toProblem(requestId),
    error: error.message,
  });

/**
 * What every route, express's or direct, does with an error it did not answer itself: log what
 * needs a look (a bug with its stack, a dependency away), say nothing to a client that left, cut a
 * stream that already started (its status line is gone), else answer in the route's wire format.
 */
export function respondWithError(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  error: unknown,
  render: ErrorRenderer = renderProblem,
): void {
  const appError = toAppError(error);
  if (appError.code === 'internal') {
    logger.error('unhandled error', { error: appError.cause ?? error, method: req.method, path });
  }
  if (appError.code === 'service_unavailable' && appError.cause !== undefined) {
    logger.warn('dependency unavailable', { error: appError.cause, method: req.method, path });
  }
  if (appError.code === 'client_closed_request') return;
  sendError(res, appError, render);
}

/**
 * Answers `error` with `render` and the request id this response carries (set before any route
 * runs); a response whose stream already started is cut instead, its status line being gone.
 */
export function sendError(res: ServerResponse, error: AppError, render: ErrorRenderer = renderProblem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = res.getHeader('x-request-id');
  render(res, error, typeof requestId === 'string' ? requestId : undefined);
}
