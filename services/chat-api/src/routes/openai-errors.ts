import type { ServerResponse } from 'node:http';
import { type OpenAiErrorResponse, openAiErrorBody } from '@corral/contracts';
import type { AppError } from '@corral/service-kit';

/** OpenAI's error body; the status picks the SDK's exception class (400, 401, 403, 404, 429, 5xx). */
export const openAiError = (error: AppError): OpenAiErrorResponse =>
  openAiErrorBody(error.code, error.message);

/** Writes an error in OpenAI's shape (status, its headers, the `{"error":{…}}` body). */
export function sendOpenAiError(res: ServerResponse, error: AppError): void {
  const text = JSON.stringify(openAiError(error));
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
