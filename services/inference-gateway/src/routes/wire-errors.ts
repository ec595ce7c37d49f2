import type { AppError, ErrorCode } from '@corral/service-kit';
import type { ServerResponse } from 'node:http';

/** Which client family a route serves: errors must be in the shape that family's SDKs parse. */
export type WireFamily = 'ollama' | 'openai';

const OPENAI_ERROR_TYPES: Partial<Record<ErrorCode, string>> = {
  bad_request: 'invalid_request_error',
  malformed_json: 'invalid_request_error',
  validation_failed: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  model_not_found: 'not_found_error',
};

/**
 * Answers a gateway-made error as a problem document that Ollama and OpenAI clients also read:
 * problem fields plus `error` (a string for Ollama, an object for OpenAI), served as
 * application/json because the `ollama` client only parses error bodies of that type.
 */
export function sendWireError(res: ServerResponse, family: WireFamily, error: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // service-kit sets the request id header on every response before any route runs.
  const requestId = res.getHeader('x-request-id');
  const problem = error.toProblem(typeof requestId === 'string' ? requestId : undefined);
  const wireError =
    family === 'ollama'
      ? error.message
      : {
          message: error.message,
          type: OPENAI_ERROR_TYPES[error.code] ?? 'api_error',
          param: null,
          code: error.code,
        };
  const body = JSON.stringify({ ...problem, error: wireError });
  res.writeHead(error.status, {
    ...error.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
