import { ollamaNameProblem } from '@corral/contracts';
import { SimHttpError, sendJson } from './http-util.js';
import { describeModel, sha256Hex } from './models.js';
import type { RouteContext } from './routes.js';

interface Layer {
  digest: string;
  total: number;
}

// Weights, template, params and license blobs, the layers a real manifest lists.
function layersOf(name: string, size: number): Layer[] {
  const extras = [
    ['template', 1429],
    ['params', 96],
    ['license', 6016],
  ] as const;
  return [
    { digest: `sha256:${sha256Hex(`${name}:weights`)}`, total: size },
    ...extras.map(([kind, total]) => ({ digest: `sha256:${sha256Hex(`${name}:${kind}`)}`, total })),
  ];
}

/** Progress lines in the order the real `/api/pull` sends them. */
function pullStatuses(name: string, size: number): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [{ status: 'pulling manifest' }];
  for (const layer of layersOf(name, size)) {
    const status = `pulling ${layer.digest.slice('sha256:'.length, 'sha256:'.length + 12)}`;
    lines.push({ status, digest: layer.digest, total: layer.total });
    for (const fraction of [0.5, 1]) {
      lines.push({
        status,
        digest: layer.digest,
        total: layer.total,
        completed: Math.round(layer.total * fraction),
      });
    }
  }
  lines.push({ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' });
  return lines;
}

/** POST /api/pull: any name "downloads" instantly and joins /api/tags. */
export function pullModel(ctx: RouteContext): void {
  const requested = typeof ctx.body.model === 'string' ? ctx.body.model : ctx.body.name;
  if (typeof requested !== 'string' || requested.trim() === '')
    throw new SimHttpError(400, 'model is required');
  // Ollama refuses a name its ParseName does not accept, before pulling anything.
  if (ollamaNameProblem(requested)) throw new SimHttpError(400, 'invalid model name');
  const spec = ctx.rt.models.find(requested) ?? describeModel({ name: requested }, new Date().toISOString());
  const lines = pullStatuses(spec.name, spec.size);
  ctx.rt.models.add({ ...spec, name: spec.name });
  if (ctx.body.stream === false) return sendJson(ctx.res, 200, { status: 'success' });
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  for (const line of lines) ctx.res.write(`${JSON.stringify(line)}\n`);
  ctx.res.end();
}

/**
 * DELETE /api/delete as Ollama answers it: body `{"model": ...}` (or the older `name`); 200 with an
 * empty body once removed, 404 `model '<name>' not found`, 400 for a missing body or an invalid name.
 */
export function deleteModel(ctx: RouteContext): void {
  const given = typeof ctx.body.model === 'string' && ctx.body.model !== '' ? ctx.body.model : ctx.body.name;
  const requested = typeof given === 'string' ? given : '';
  if (requested.trim() === '') throw new SimHttpError(400, 'model is required');
  if (ollamaNameProblem(requested))
    throw new SimHttpError(400, `name ${JSON.stringify(requested)} is invalid`);
  if (!ctx.rt.models.remove(requested)) throw new SimHttpError(404, `model '${requested}' not found`);
  // Gin's answer when a handler writes nothing: 200, no body, no content type.
  ctx.res.writeHead(200, { 'Content-Length': 0 });
  ctx.res.end();
}
