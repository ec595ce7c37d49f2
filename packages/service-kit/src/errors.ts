import { ERROR_CATALOG, type ErrorCode, problemType } from '@corral/contracts';

// The closed list of error codes (each with its one HTTP status) is a contract: it lives in
// @corral/contracts, which clients read too; re-exported here for the services.
export { ERROR_CATALOG, type ErrorCode, problemType };

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId?: string;
  instance?: string;
  [extension: string]: unknown;
}

export interface AppErrorOptions {
  /** Extra members for the problem body (e.g. `errors` for validation, `retryAfter`). */
  extensions?: Record<string, unknown>;
  /** Response headers such as `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The one error type a route throws; the error handler turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    options: AppErrorOptions = {},
  ) {
    super(
      detail ?? ERROR_CATALOG[code].title,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'AppError';
    this.status = ERROR_CATALOG[code].status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(requestId?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: problemType(this.code),
      title: ERROR_CATALOG[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(requestId === undefined ? {} : { requestId }),
    };
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);
/** PostgreSQL SQLSTATEs and Prisma codes meaning the database is not there right now. */
const UNREACHABLE_DB_CODES = new Set(['57P01', '57P02', '57P03', 'P1001', 'P1002', 'P1017']);
/** …and meaning it is there but has no connection to give in time (pool or server full). */
const BUSY_DB_CODES = new Set(['53300', 'P2024', 'P2028']);
const BUSY_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated due to connection timeout|Unable to start a transaction in the given time|TooManyConnections/i;
const UNREACHABLE_MESSAGE =
  /Connection terminated|Can't reach database server|DatabaseNotReachable|ConnectionClosed/i;

export type UnavailableReason = 'busy' | 'unreachable';

/**
 * Why an error (or anything in its cause chain) means a dependency — PostgreSQL, Redis, an upstream
 * service — could not serve this request: `busy` (no pooled connection in time) or `unreachable`.
 * Either way the caller should retry; it is not a bug.
 */
export function dependencyUnavailable(error: unknown, depth = 0): UnavailableReason | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const { code, message, cause, kind } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    kind?: unknown;
  };
  const text = [message, kind].filter((part): part is string => typeof part === 'string').join(' ');
  if ((typeof code === 'string' && BUSY_DB_CODES.has(code)) || BUSY_MESSAGE.test(text)) return 'busy';
  if (
    (typeof code === 'string' &&
      (UNREACHABLE_CODES.has(code) || UNREACHABLE_DB_CODES.has(code) || code.startsWith('08'))) ||
    UNREACHABLE_MESSAGE.test(text)
  ) {
    return 'unreachable';
  }
  return dependencyUnavailable(cause, depth + 1);
}

const UNAVAILABLE = {
  busy: { retryAfter: 1, detail: 'The service is busy (no database connection free); retry shortly.' },
  unreachable: { retryAfter: 5, detail: 'A dependency of this service is unavailable; try again shortly.' },
} as const;

interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/** Maps express/body-parser failures onto the catalog; anything unknown becomes `internal`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const candidate = (typeof error === 'object' && error !== null ? error : {}) as BodyParserError;
  switch (candidate.type) {
    case 'entity.too.large':
      return new AppError('payload_too_large', 'The request body is larger than this service accepts.', {
        cause: error,
      });
    case 'entity.parse.failed':
      return new AppError('malformed_json', 'The request body is not valid JSON.', { cause: error });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', String(candidate.message), { cause: error });
    case 'request.aborted':
      return new AppError('client_closed_request', 'The client closed the request.', { cause: error });
    default:
      break;
  }
  const unavailable = dependencyUnavailable(error);
  if (unavailable) {
    const { retryAfter, detail } = UNAVAILABLE[unavailable];
    return new AppError('service_unavailable', detail, {
      headers: { 'Retry-After': String(retryAfter) },
      extensions: { retryAfter },
      cause: error,
    });
  }
  const status = typeof candidate.status === 'number' ? candidate.status : 500;
  if (status >= 400 && status < 500 && candidate.expose === true) {
    return new AppError('bad_request', String(candidate.message), { cause: error });
  }
  return new AppError('internal', 'An unexpected error occurred.', { cause: error });
}
