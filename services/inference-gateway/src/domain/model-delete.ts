import type { Backend } from './backend.js';
import { type UpstreamClient, describeFailure } from './upstream.js';

export interface DeleteResult {
  backend: string;
  status: 'removed' | 'not_found' | 'failed';
  error?: string;
}

/** How long one backend may take to delete a model (it unlinks a manifest and unused blobs). */
const DELETE_TIMEOUT_MS = 30_000;

/** Ollama's `DELETE /api/delete` on one backend: 200 removed, 404 it did not hold the model. */
async function deleteOn(backend: Backend, upstream: UpstreamClient, model: string): Promise<DeleteResult> {
  try {
    const response = await upstream.open(`${backend.url}/api/delete`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: Buffer.from(JSON.stringify({ model })),
      signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
    });
    const text = await response.body.text();
    if (response.statusCode === 200) return { backend: backend.id, status: 'removed' };
    if (response.statusCode === 404) return { backend: backend.id, status: 'not_found' };
    let error = text;
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string') error = parsed.error;
    } catch {
      // not JSON: keep the text
    }
    return { backend: backend.id, status: 'failed', error: `${response.statusCode}: ${error}`.slice(0, 500) };
  } catch (error) {
    return { backend: backend.id, status: 'failed', error: describeFailure(error) };
  }
}

/** Deletes one model from every given backend at once; never throws, one result per backend. */
export function deleteEverywhere(
  backends: Backend[],
  upstream: UpstreamClient,
  model: string,
): Promise<DeleteResult[]> {
  return Promise.all(backends.map((backend) => deleteOn(backend, upstream, model)));
}

/** The removal's overall outcome: not_found when no backend held it, partial when one still may. */
export function removalStatus(
  results: DeleteResult[],
  skipped: number,
): 'removed' | 'partial' | 'not_found' | 'failed' {
  const removed = results.filter((result) => result.status === 'removed').length;
  const failed = results.filter((result) => result.status === 'failed').length;
  if (failed > 0) return removed > 0 ? 'partial' : 'failed';
  if (removed === 0) return skipped > 0 ? 'failed' : 'not_found';
  return skipped > 0 ? 'partial' : 'removed';
}
