import { type AppError, openAiRenderer } from '@corral/service-kit';

/** OpenAI's error body; the status picks the SDK's exception class (400, 401, 403, 404, 429, 5xx). */
export function openAiError(error: AppError) {
  const type =
    error.status === 401
      ? 'authentication_error'
      : error.status === 403
        ? 'permission_error'
        : error.code === 'quota_exceeded'
          ? 'insufficient_quota'
          : error.status === 429
            ? 'rate_limit_error'
            : error.status >= 500
              ? 'server_error'
              : 'invalid_request_error';
  const code =
    error.status === 401
      ? 'invalid_api_key'
      : error.code === 'rate_limited'
        ? 'rate_limit_exceeded'
        : error.code === 'quota_exceeded'
          ? 'insufficient_quota'
          : error.code;
  return { error: { message: error.message, type, param: null, code } };
}

/** Writes an error in OpenAI's shape (status, its headers, the `{"error":{…}}` body). */
export const sendOpenAiError = openAiRenderer(openAiError);
