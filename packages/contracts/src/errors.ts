import { z } from 'zod';

/**
 * The closed list of error codes every Corral service answers with, each mapped to one HTTP
 * status here and nowhere else. Clients switch on `code` (and the `type` URI built from it).
 */
export const ERROR_CATALOG = {
  bad_request: { status: 400, title: 'Bad request' },
  malformed_json: { status: 400, title: 'Malformed JSON body' },
  validation_failed: { status: 400, title: 'Request validation failed' },
  unauthorized: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Invalid email or password' },
  invalid_token: { status: 401, title: 'Invalid or expired token' },
  forbidden: { status: 403, title: 'Forbidden' },
  account_pending: { status: 403, title: 'Account awaiting approval' },
  account_disabled: { status: 403, title: 'Account disabled' },
  registration_closed: { status: 403, title: 'Registration is closed' },
  password_login_disabled: { status: 403, title: 'Password sign-in is turned off' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  model_not_found: { status: 404, title: 'Model not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  storage_quota_exceeded: { status: 413, title: 'Storage quota full' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  quota_exceeded: { status: 429, title: 'Token budget spent' },
  too_many_streams: { status: 429, title: 'Too many concurrent streams' },
  client_closed_request: { status: 499, title: 'Client closed request' },
  internal: { status: 500, title: 'Internal server error' },
  bad_gateway: { status: 502, title: 'Upstream failed' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  overloaded: { status: 503, title: 'All backends are busy' },
  upstream_timeout: { status: 504, title: 'Upstream timed out' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];
export const errorCode = z.enum(ERROR_CODES);

export const problemType = (code: ErrorCode): string => `urn:corral:error:${code}`;

/** What code a caller sees for an error whose code a peer did not send (proxies, plain-text errors). */
export function errorCodeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 504) return 'bad_gateway';
  if (status === 503) return 'service_unavailable';
  return status >= 500 ? 'internal' : 'bad_request';
}

/**
 * An `application/problem+json` body (RFC 9457) as every Corral service sends it: the code's
 * `type` URI and status, plus extensions (`errors` for validation, `retryAfter`, …).
 */
export const problemDetails = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    code: errorCode,
    requestId: z.string().optional(),
    instance: z.string().optional(),
    retryAfter: z.number().nonnegative().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .superRefine((problem, issue) => {
    if (problem.type !== problemType(problem.code)) {
      issue.addIssue({ code: 'custom', path: ['type'], message: `must be ${problemType(problem.code)}` });
    }
    if (problem.status !== ERROR_CATALOG[problem.code].status) {
      issue.addIssue({
        code: 'custom',
        path: ['status'],
        message: `${problem.code} is answered ${ERROR_CATALOG[problem.code].status}`,
      });
    }
  });
export type ProblemDetails = z.infer<typeof problemDetails>;
