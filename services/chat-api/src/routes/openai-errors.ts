import { type OpenAiErrorResponse, openAiErrorBody } from '@corral/contracts';
import { type AppError, openAiRenderer } from '@corral/service-kit';

/** OpenAI's error body; the status picks the SDK's exception class (400, 401, 403, 404, 429, 5xx). */
export const openAiError = (error: AppError): OpenAiErrorResponse =>
  openAiErrorBody(error.code, error.message);

/** Writes an error in OpenAI's shape (status, its headers, the `{"error":{…}}` body). */
export const sendOpenAiError = openAiRenderer(openAiError);
