import type { Backend } from './backend.js';
import type { UpstreamClient } from './upstream.js';

/**
 * Loads a model on a backend without generating anything: Ollama loads the model for a generate
 * request without a prompt and answers once it is in memory. `keepAlive` is the pool's value (unset:
 * the server's default).
 */
export async function preloadModel(
  upstream: UpstreamClient,
  backend: Backend,
  model: string,
  keepAlive: string | undefined,
  timeoutMs: number,
): Promise<void> {
  const body = keepAlive === undefined ? { model } : { model, keep_alive: keepAlive };
  const response = await upstream.open(`${backend.url}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`preload answered ${response.statusCode}`);
}
