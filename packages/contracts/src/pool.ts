import { z } from 'zod';
import { ollamaNameProblem } from './model-names.js';

/** A model reference Ollama accepts (`[host/][namespace/]model[:tag]`), checked as Ollama checks it. */
export const ollamaModelName = z
  .string()
  .trim()
  .min(1, 'name the model')
  .max(520)
  .superRefine((name, check) => {
    const problem = ollamaNameProblem(name);
    if (problem) check.addIssue({ code: 'custom', message: `not an Ollama model name: ${problem}` });
  });

/** `POST /api/admin/models/pull`: relayed to the gateway's `POST /admin/models/pull`. */
export const modelPullRequest = z.object({
  model: ollamaModelName,
  /** Allow a registry without TLS (Ollama's `insecure`). */
  insecure: z.boolean().optional(),
});
export type ModelPullRequest = z.infer<typeof modelPullRequest>;

export const backendState = z.enum(['pending', 'healthy', 'ejected', 'draining']);
export type BackendState = z.infer<typeof backendState>;

/** The gateway's view of one Ollama backend (`GET /admin/backends`, relayed at `/api/admin/backends`). */
export const backendView = z.object({
  id: z.string(),
  url: z.string(),
  state: backendState,
  version: z.string().nullable(),
  /** The models it holds, tagged and sorted. */
  models: z.array(z.string()),
  inFlight: z.number().int().min(0),
  /** Models loaded in its memory now (its /api/ps), and those this gateway is loading there. */
  loaded: z.array(z.string()),
  loading: z.array(z.string()),
  /** Requests running per model (each model has its own OLLAMA_NUM_PARALLEL slots). */
  slotsInUse: z.record(z.string(), z.number().int().min(0)),
  maxParallel: z.number().int().positive(),
  /** cache-aware: prompts sent there not answered yet and their estimated unprocessed tokens (absent from gateways before 2026-12-07). */
  promptBacklog: z.object({ prompts: z.number().int().min(0), tokens: z.number().int().min(0) }).optional(),
  queued: z.number().int().min(0),
  busy: z.boolean(),
  tokensPerSecond: z.number().min(0),
  errors: z.number().int().min(0),
  consecutiveFailures: z.number().int().min(0),
  lastError: z.string().nullable(),
  ejections: z.number().int().min(0),
  ejectedUntil: z.iso.datetime({ offset: true }).nullable(),
});
export type BackendView = z.infer<typeof backendView>;

/** `GET /admin/backends`: the routing strategy, the wait queue and every backend. */
export const backendPool = z.object({
  strategy: z.enum(['round-robin', 'least-outstanding', 'cache-aware']),
  /** Conversations sent back to the backend of their previous turn (cache-aware), and how often. */
  affinity: z.object({
    hits: z.number().int().min(0),
    misses: z.number().int().min(0),
    hitRate: z.number().min(0).max(1).nullable(),
  }),
  /** Requests sent to a backend that had to load their model first. */
  coldLoads: z.number().int().min(0),
  queue: z.object({
    depth: z.number().int().min(0),
    max: z.number().int().min(0),
    timeoutMs: z.number().int().min(0),
  }),
  backends: z.array(backendView),
});
export type BackendPool = z.infer<typeof backendPool>;

/** One backend's outcome in a pull's summary. */
export const pullResult = z.object({
  backend: z.string(),
  status: z.enum(['success', 'failed']),
  error: z.string().optional(),
});
export type PullResult = z.infer<typeof pullResult>;

/** The last line of `POST /admin/models/pull`'s NDJSON progress (relayed at `/api/admin/models/pull`). */
export const pullSummary = z.object({
  status: z.enum(['success', 'partial', 'failed']),
  model: z.string(),
  backends: z.array(pullResult),
  /** Backends not pulled onto (not healthy). */
  skipped: z.array(z.string()),
  done: z.literal(true),
});
export type PullSummary = z.infer<typeof pullSummary>;

/** The last line when the pull broke off (the relay lost the gateway): what happened, and the end. */
export const pullBroken = z.object({ error: z.string(), done: z.literal(true) });

/** A progress line before the end: Ollama's pull progress, tagged with the backend it came from. */
export const pullProgress = z.looseObject({ backend: z.string() });

/** Any line of a pull's NDJSON progress: a backend's progress, then the summary (or the break). */
export const pullLine = z.union([pullSummary, pullBroken, pullProgress]);

/** `PUT /api/admin/models/:name/availability`: whether users see and may use a model of the pool. */
export const modelAvailabilityPatch = z.object({ availableToUsers: z.boolean() });
export type ModelAvailabilityPatch = z.infer<typeof modelAvailabilityPatch>;

/** One model of the pool as the admin sees it (`GET /api/admin/models`). */
export const poolModelView = z.object({
  name: z.string(),
  /** Users see it in /v1/models and the picker, and may use it (groups and allowlists may narrow). */
  availableToUsers: z.boolean(),
  /** Whether an admin decided (false: the default for models Corral did not pull). */
  decided: z.boolean(),
  /** The backends holding it. */
  backends: z.array(z.string()),
});
export type PoolModelView = z.infer<typeof poolModelView>;
export const poolModelListing = z.object({ items: z.array(poolModelView) });
export type PoolModelListing = z.infer<typeof poolModelListing>;

/** `DELETE /api/admin/models/:name`: Ollama's `DELETE /api/delete` on every backend, one result each. */
export const modelRemoval = z.object({
  model: z.string(),
  status: z.enum(['removed', 'partial', 'not_found', 'failed']),
  backends: z.array(
    z.object({
      backend: z.string(),
      status: z.enum(['removed', 'not_found', 'failed']),
      error: z.string().optional(),
    }),
  ),
  skipped: z.array(z.string()),
});
export type ModelRemoval = z.infer<typeof modelRemoval>;
