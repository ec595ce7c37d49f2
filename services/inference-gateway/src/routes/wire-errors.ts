import type { AppError, ErrorCode } from '@corral/service-kit';
import type { Response } from 'express';

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
export function sendWireError(res: Response, family: WireFamily, error: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const problem = error.toProblem(res.locals.requestId as string | undefined);
  const wireError =
    family === 'ollama'
      ? error.message
      : {
          message: error.message,
          type: OPENAI_ERROR_TYPES[error.code] ?? 'api_error',
          param: null,
          code: error.code,
        };
  res
    .status(error.status)
    .set(error.headers)
    .type('application/json')
    .send(JSON.stringify({ ...problem, error: wireError }));
}
