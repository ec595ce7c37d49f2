import type { ServerResponse } from 'node:http';
import { openAiErrorBody } from '@corral/contracts';
import {
  type AppError,
  type ErrorRenderer,
  openAiRenderer,
  renderOllamaError,
  sendError,
} from '@corral/service-kit';

/** Which client family a route serves: errors must be in the shape that family's SDKs parse. */
export type WireFamily = 'ollama' | 'openai';

/** OpenAI's error object for a gateway-made error (the one mapping, @corral/contracts), beside the problem fields Corral's callers read. */
function openAiWireBody(error: AppError, requestId: string | undefined) {
  return { ...error.toProblem(requestId), ...openAiErrorBody(error.code, error.message) };
}

/**
 * How a gateway-made error is answered, by family (service-kit's renderers): a problem document
 * that Ollama and OpenAI clients also read — `error` a string for Ollama, an object for OpenAI —
 * served as application/json because the `ollama` client only parses error bodies of that type.
 */
export const WIRE_ERRORS: Record<WireFamily, ErrorRenderer> = {
  ollama: renderOllamaError,
  openai: openAiRenderer(openAiWireBody),
};

/** Answers an error in the family's shape from an express route (a started stream is cut instead). */
export function sendWireError(res: ServerResponse, family: WireFamily, error: AppError): void {
  sendError(res, error, WIRE_ERRORS[family]);
}
