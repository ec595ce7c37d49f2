import type { ServerResponse } from 'node:http';
import {
  type AppError,
  type ErrorCode,
  type ErrorRenderer,
  openAiRenderer,
  renderOllamaError,
  sendError,
} from '@corral/service-kit';

/** Which client family a route serves: errors must be in the shape that family's SDKs parse. */
export type WireFamily = 'ollama' | 'openai';

const OPENAI_ERROR_TYPES: Partial<Record<ErrorCode, string>> = {
  bad_request: 'invalid_request_error',
  malformed_json: 'invalid_request_error',
  validation_failed: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  model_not_found: 'not_found_error',
};

/** OpenAI's error object for a gateway-made error, beside the problem fields Corral's callers read. */
function openAiErrorBody(error: AppError, requestId: string | undefined) {
  return {
    ...error.toProblem(requestId),
    error: {
      message: error.message,
      type: OPENAI_ERROR_TYPES[error.code] ?? 'api_error',
      param: null,
      code: error.code,
    },
  };
}

/**
 * How a gateway-made error is answered, by family (service-kit's renderers): a problem document
 * that Ollama and OpenAI clients also read — `error` a string for Ollama, an object for OpenAI —
 * served as application/json because the `ollama` client only parses error bodies of that type.
 */
export const WIRE_ERRORS: Record<WireFamily, ErrorRenderer> = {
  ollama: renderOllamaError,
  openai: openAiRenderer(openAiErrorBody),
};

/** Answers an error in the family's shape from an express route (a started stream is cut instead). */
export function sendWireError(res: ServerResponse, family: WireFamily, error: AppError): void {
  sendError(res, error, WIRE_ERRORS[family]);
}
