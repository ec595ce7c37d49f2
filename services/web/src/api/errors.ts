import { errorCodeForStatus } from '@corral/contracts';

/** An RFC 9457 problem as Corral's services send it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  retryAfter?: number;
  [extension: string]: unknown;
}

/** A service answered with an error status; `code` is the stable thing to switch on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly requestId: string | undefined;
  /** Seconds to wait before trying again (Retry-After header or the problem's retryAfter). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly problem: Problem,
    retryAfterSeconds?: number,
  ) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.requestId = problem.requestId;
    this.retryAfterSeconds =
      retryAfterSeconds ?? (typeof problem.retryAfter === 'number' ? problem.retryAfter : undefined);
  }
}

/** The request never got an answer (offline, server down, connection cut mid-stream). */
export class NetworkError extends Error {
  constructor(message = 'The connection to the server was lost.', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

/** A service answered, but not in the shape its contract says: a bug on one side, not the user's doing. */
export class UnexpectedAnswer extends Error {
  constructor(path: string, why: string, options?: { cause?: unknown }) {
    super(`The server's answer to ${path} was not what this app expects (${why}).`, options);
    this.name = 'UnexpectedAnswer';
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Any error body (problem+json, plain JSON, HTML from a proxy) becomes one typed error. */
export async function toApiError(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return new ApiError(problemFrom(body, res.status, res.statusText), retryAfter);
}

export function problemFrom(body: unknown, status: number, statusText = ''): Problem {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem> & {
    error?: unknown;
    message?: unknown;
  };
  const code = typeof raw.code === 'string' ? raw.code : errorCodeForStatus(status);
  const title = typeof raw.title === 'string' ? raw.title : statusText || `HTTP ${status}`;
  const detail =
    typeof raw.detail === 'string'
      ? raw.detail
      : typeof raw.message === 'string'
        ? raw.message
        : typeof raw.error === 'string'
          ? raw.error
          : title;
  return { ...raw, type: raw.type ?? `urn:corral:error:${code}`, title, status, detail, code };
}

export type ErrorKind =
  | 'rate_limited'
  | 'quota_exceeded'
  | 'model_unavailable'
  | 'connection_lost'
  | 'signed_out'
  | 'forbidden'
  | 'not_found'
  | 'invalid_input'
  | 'server';

export interface ErrorDescription {
  kind: ErrorKind;
  title: string;
  message: string;
  retryAfterSeconds?: number;
  /** Trying the same thing again may work (after the wait, if any). */
  retryable: boolean;
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}

/** What the UI says about an error: one place, so every screen explains failures the same way. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof NetworkError || (error instanceof TypeError && /fetch|network/i.test(error.message))) {
    return {
      kind: 'connection_lost',
      title: 'Connection lost',
      message: 'Could not reach the server. Check your connection and try again.',
      retryable: true,
    };
  }
  if (!(error instanceof ApiError)) {
    return {
      kind: 'server',
      title: 'Something went wrong',
      message: error instanceof Error ? error.message : String(error),
      retryable: true,
    };
  }
  const wait = error.retryAfterSeconds;
  const withWait = wait === undefined ? {} : { retryAfterSeconds: wait };
  switch (error.code) {
    case 'rate_limited':
    case 'too_many_streams':
      return {
        kind: 'rate_limited',
        title: error.code === 'too_many_streams' ? 'Too many replies at once' : 'Slow down',
        message:
          wait === undefined
            ? 'You are sending requests too quickly. Wait a moment and try again.'
            : `You are sending requests too quickly. Try again in ${formatWait(wait)}.`,
        retryable: true,
        ...withWait,
      };
    case 'quota_exceeded':
      return {
        kind: 'quota_exceeded',
        title: 'Token budget spent',
        message:
          wait === undefined
            ? 'You have used your token budget. Ask an administrator to raise your limit.'
            : `You have used your token budget. It renews in ${formatWait(wait)}.`,
        retryable: false,
        ...withWait,
      };
    case 'model_not_found':
    case 'overloaded':
    case 'service_unavailable':
    case 'bad_gateway':
    case 'upstream_timeout':
      return {
        kind: 'model_unavailable',
        title: error.code === 'model_not_found' ? 'Model not available' : 'Model unavailable right now',
        message:
          error.code === 'model_not_found'
            ? `${error.message} Pick another model.`
            : wait === undefined
              ? `${error.message} Try again shortly.`
              : `${error.message} Try again in ${formatWait(wait)}.`,
        retryable: error.code !== 'model_not_found',
        ...withWait,
      };
    case 'unauthorized':
    case 'invalid_token':
      return { kind: 'signed_out', title: 'Signed out', message: 'Please sign in again.', retryable: false };
    case 'forbidden':
    case 'account_disabled':
    case 'account_pending':
    case 'registration_closed':
    case 'password_login_disabled':
      return { kind: 'forbidden', title: error.title, message: error.message, retryable: false };
    case 'not_found':
      return { kind: 'not_found', title: 'Not found', message: error.message, retryable: false };
    case 'validation_failed':
    case 'bad_request':
    case 'conflict':
    case 'payload_too_large':
    case 'storage_quota_exceeded':
    case 'invalid_credentials':
      return { kind: 'invalid_input', title: error.title, message: error.message, retryable: false };
    default:
      return {
        kind: 'server',
        title: error.title,
        message: error.requestId ? `${error.message} (request ${error.requestId})` : error.message,
        retryable: error.status >= 500,
      };
  }
}
