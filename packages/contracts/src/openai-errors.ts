import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from './errors.js';

/**
 * The `type` values OpenAI's API answers with, the ones its SDKs and tools know. A missing model
 * is `invalid_request_error` with code `model_not_found` at 404, as OpenAI answers it.
 */
export const OPENAI_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'rate_limit_error',
  'insufficient_quota',
  'server_error',
] as const;
export type OpenAiErrorType = (typeof OPENAI_ERROR_TYPES)[number];

/** The one mapping from Corral's error codes to OpenAI's error types (by the code's HTTP status). */
export function openAiErrorType(code: ErrorCode): OpenAiErrorType {
  const { status } = ERROR_CATALOG[code];
  if (code === 'quota_exceeded') return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * The `code` OpenAI's clients look for: OpenAI's own where it has one (`invalid_api_key` for any
 * refused credential, `rate_limit_exceeded`, `insufficient_quota`), else Corral's code.
 */
export function openAiErrorCode(code: ErrorCode): string {
  if (ERROR_CATALOG[code].status === 401) return 'invalid_api_key';
  if (code === 'rate_limited') return 'rate_limit_exceeded';
  if (code === 'quota_exceeded') return 'insufficient_quota';
  return code;
}

export const openAiError = z.object({
  message: z.string(),
  type: z.enum(OPENAI_ERROR_TYPES),
  param: z.string().nullable(),
  code: z.string().nullable(),
});
export type OpenAiError = z.infer<typeof openAiError>;

/** `{"error":{message,type,param,code}}`: OpenAI's error body; the HTTP status picks the SDK's exception. */
export const openAiErrorResponse = z.object({ error: openAiError });
export type OpenAiErrorResponse = z.infer<typeof openAiErrorResponse>;

/** The OpenAI error body for a Corral error code; `param` names the request field at fault. */
export function openAiErrorBody(
  code: ErrorCode,
  message: string,
  param: string | null = null,
): OpenAiErrorResponse {
  return { error: { message, type: openAiErrorType(code), param, code: openAiErrorCode(code) } };
}
