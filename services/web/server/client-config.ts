import { Router } from 'express';

export const INFERENCE_KINDS = ['configured', 'local-ollama', 'simulator'] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];

/** What the SPA reads from `GET /config.json` before it renders anything that depends on it. */
export interface ClientConfig {
  inference: { kind: InferenceKind | null; label: string | null } | null;
}

export function clientConfig(inference: {
  kind?: InferenceKind | undefined;
  label?: string | undefined;
}): ClientConfig {
  if (inference.kind === undefined && inference.label === undefined) return { inference: null };
  return { inference: { kind: inference.kind ?? null, label: inference.label ?? null } };
}

/** `GET /config.json`: runtime settings as a file, since the CSP forbids an inline script. */
export function clientConfigRoute(config: ClientConfig): Router {
  const router = Router();
  const body = JSON.stringify(config);
  router.get('/config.json', (_req, res) => {
    res.type('application/json').set('Cache-Control', 'no-cache').send(body);
  });
  return router;
}
