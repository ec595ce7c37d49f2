import { type BaseConfig, envInt, envPort, envUrl } from '@corral/service-kit';
import { z } from 'zod';
import { INFERENCE_KINDS } from './client-config.js';

const optionalUrl = (description: string) => envUrl('http').optional().describe(description);

/** Everything the web server reads from the environment. */
export const webEnvShape = {
  PORT: envPort(3000),
  STATIC_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Built SPA (vite build output); defaults to dist/client next to the server.'),
  AUTH_URL: optionalUrl(
    'Proxy mode (local, or the chart without an Ingress): auth; /api/auth and /.well-known are proxied to it.',
  ),
  CHAT_API_URL: optionalUrl(
    'Proxy mode (local, or the chart without an Ingress): chat-api; /api and /v1 are proxied to it.',
  ),
  GATEWAY_URL: optionalUrl(
    'Local mode: inference-gateway; API calls to /admin/backends and /admin/models are proxied to it (a browser opening those pages gets the web app; unset: not proxied).',
  ),
  PROXY_TIMEOUT_MS: envInt(30_000, { min: 1000 }).describe(
    'Time an upstream has to send response headers (streams may then run on).',
  ),
  HSTS_MAX_AGE_SECONDS: envInt(31_536_000).describe('Strict-Transport-Security max-age, sent over TLS only.'),
  CORRAL_INFERENCE_KIND: z
    .enum(INFERENCE_KINDS)
    .optional()
    .describe(
      'What answers chat (set by `corral start`); `simulator` makes the app say replies are not a model.',
    ),
  CORRAL_INFERENCE_LABEL: z
    .string()
    .trim()
    .min(1)
    .max(300)
    .optional()
    .describe('How the app names the inference in use, e.g. "Ollama at http://127.0.0.1:11434".'),
} as const;

export type WebConfig = BaseConfig & z.infer<z.ZodObject<typeof webEnvShape>>;
