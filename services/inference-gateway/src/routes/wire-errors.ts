import type { ServerResponse } from 'node:http';
import { openAiErrorBody } from '@corral/contracts';
import type { AppError } from '@corral/service-kit';

/** Which client family a route serves: errors must be in the shape that family's SDKs parse. */
export type WireFamily = 'ollama' | 'openai';

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
  const wireError = family === 'ollama' ? error.message : openAiErrorBody(error.code, error.message).error;
  const body = JSON.stringify({ ...problem, error: wireError });
  res.writeHead(error.status, {
    ...error.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
