import type { SimModelSpec } from './models.js';

/** Knobs that can change while the simulator runs (library `setOptions`, admin `POST /_sim/config`). */
export interface SimTunables {
  /** Token pace for streamed and non-streamed replies; 0 emits every token at once. */
  tokensPerSecond: number;
  /** Delay between admission and the first token, in milliseconds. */
  ttftMs: number;
  /** Natural reply length in tokens (a reply stops earlier when `num_predict` is smaller). */
  responseTokens: number;
  /** Generations running at once, like OLLAMA_NUM_PARALLEL; 0 means unlimited. */
  maxParallel: number;
  /** Generations allowed to wait for a slot, like OLLAMA_MAX_QUEUE; more are answered 503. */
  maxQueue: number;
  /** Seed used when a request gives none (`options.seed` / OpenAI `seed`). */
  seed: number;
  /** Time to load a model that is not in (simulated) GPU memory; `SimModelSpec.loadMs` overrides it. */
  loadMs: number;
  /** Models in memory at once, like OLLAMA_MAX_LOADED_MODELS (the idle one used least recently goes); 0 = unlimited. */
  maxLoadedModels: number;
  /** How long an idle model stays loaded when a request gives no `keep_alive`, like OLLAMA_KEEP_ALIVE; negative = forever. */
  keepAliveMs: number;
  /** Prompt processing (prefill) throughput of the server, shared by the prompts processed at once; 0 = free. */
  promptTokensPerSecond: number;
  /** Each busy slot of a model beyond the first makes its decoding this much slower (0.15 = 15 % per slot). */
  busySlotSlowdown: number;
  /** Reuse a slot's KV cache: a prompt's prefix already in the slot costs nothing and is left out of `prompt_eval_count`. */
  promptCache: boolean;
}

/** Named sets of tunables; `fast` is the default (every cost off, for tests). */
export type SimProfileName = 'fast' | 'gpu-8b';

/** What the simulator does wrong on purpose, for resilience tests. */
export type FailureMode =
  | { mode: 'none' }
  /** Close the socket as soon as a request arrives, without answering. */
  | { mode: 'refuse' }
  /** Answer 500 with an error body. */
  | { mode: 'error-500'; message?: string }
  /** Cut the connection after this many tokens of a generation (before the final chunk). */
  | { mode: 'drop-mid-stream'; afterTokens: number }
  /** Accept the request and never answer (until the client gives up or the sim closes). */
  | { mode: 'hang' };

export interface FailureScope {
  /** Only requests whose path starts with one of these are affected; default: every non-admin path. */
  paths?: string[];
  /** Affect only this many requests, then go back to `none`; default: until changed. */
  times?: number;
}

export type FailureSetting = FailureMode & FailureScope;

export interface OllamaSimOptions extends Partial<SimTunables> {
  /** TCP port; 0 picks a free one. Default 0 for the library (the CLI defaults to 11434). */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Models the simulator holds at start. Default `['llama3.2', 'nomic-embed-text']`. */
  models?: Array<string | SimModelSpec>;
  /** Initial failure mode. Default `{ mode: 'none' }`. */
  failure?: FailureSetting;
  /** Where the start-up line goes; `null` silences it. Default: stderr. */
  logger?: ((line: string) => void) | null;
  /** Reported by `GET /api/version`. */
  version?: string;
  /** A preset the explicit tunables override; default `fast`. */
  profile?: SimProfileName;
}

export const DEFAULT_TUNABLES: SimTunables = {
  tokensPerSecond: 100,
  ttftMs: 20,
  responseTokens: 24,
  maxParallel: 0,
  maxQueue: 512,
  seed: 0,
  loadMs: 0,
  maxLoadedModels: 0,
  keepAliveMs: 5 * 60_000,
  promptTokensPerSecond: 0,
  busySlotSlowdown: 0,
  promptCache: false,
};

/**
 * Near an 8B Q4_K_M model (about 5 GB) on one 24 GB GPU (L4/A10 class): a few seconds to load from
 * local disk, about 2,000 prompt tokens/s and 45 decode tokens/s for one stream, 4 slots per model
 * (OLLAMA_NUM_PARALLEL=4), room for 3 such models (Ollama's default OLLAMA_MAX_LOADED_MODELS for one GPU).
 */
export const GPU_8B_PROFILE: Partial<SimTunables> = {
  tokensPerSecond: 45,
  ttftMs: 15,
  maxParallel: 4,
  maxQueue: 512,
  loadMs: 3000,
  maxLoadedModels: 3,
  keepAliveMs: 5 * 60_000,
  promptTokensPerSecond: 2000,
  busySlotSlowdown: 0.15,
  promptCache: true,
};

export const PROFILES: Record<SimProfileName, Partial<SimTunables>> = { fast: {}, 'gpu-8b': GPU_8B_PROFILE };

/** A chat model with tools, a vision model, a thinking model and an embedding model. */
export const DEFAULT_MODELS = ['llama3.2', 'llava', 'qwen3', 'nomic-embed-text'];
export const DEFAULT_VERSION = '0.13.0-sim';

/** The tunables a profile and explicit options give, over the defaults. */
export function resolveTunables(profile: unknown, explicit: Partial<SimTunables>): SimTunables {
  if (profile !== undefined && !Object.hasOwn(PROFILES, profile as string)) {
    throw new RangeError(`profile must be one of ${Object.keys(PROFILES).join(', ')}`);
  }
  const preset = PROFILES[(profile as SimProfileName | undefined) ?? 'fast'];
  return { ...DEFAULT_TUNABLES, ...preset, ...validateTunables(explicit) };
}

const TUNABLE_KEYS = Object.keys(DEFAULT_TUNABLES) as Array<keyof SimTunables>;
const INTEGER_KEYS = ['responseTokens', 'maxParallel', 'maxQueue', 'seed', 'maxLoadedModels'];

/** Checks a partial set of tunables; throws a RangeError naming the bad field. */
export function validateTunables(input: unknown): Partial<SimTunables> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new RangeError('options must be an object');
  }
  const out: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || !TUNABLE_KEYS.includes(key as keyof SimTunables)) continue;
    if (key === 'promptCache') {
      if (typeof value !== 'boolean')
        throw new RangeError(`promptCache must be a boolean, got ${JSON.stringify(value)}`);
      out[key] = value;
      continue;
    }
    const lowest = key === 'keepAliveMs' ? -Infinity : 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < lowest) {
      throw new RangeError(`${key} must be a finite number >= 0, got ${JSON.stringify(value)}`);
    }
    if (INTEGER_KEYS.includes(key) && !Number.isInteger(value)) {
      throw new RangeError(`${key} must be an integer, got ${value}`);
    }
    out[key] = value;
  }
  return out as Partial<SimTunables>;
}

const FAILURE_MODES = ['none', 'refuse', 'error-500', 'drop-mid-stream', 'hang'];

/** Checks a failure setting from a test or the admin endpoint; throws a RangeError when it is wrong. */
export function validateFailure(input: unknown): FailureSetting {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new RangeError('failure must be an object like { "mode": "hang" }');
  }
  const raw = input as Record<string, unknown>;
  const mode = raw.mode;
  if (typeof mode !== 'string' || !FAILURE_MODES.includes(mode)) {
    throw new RangeError(`failure.mode must be one of ${FAILURE_MODES.join(', ')}`);
  }
  const scope: FailureScope = {};
  if (raw.paths !== undefined) {
    if (!Array.isArray(raw.paths) || !raw.paths.every((p) => typeof p === 'string')) {
      throw new RangeError('failure.paths must be an array of path prefixes');
    }
    scope.paths = raw.paths as string[];
  }
  if (raw.times !== undefined) {
    if (typeof raw.times !== 'number' || !Number.isInteger(raw.times) || raw.times < 1) {
      throw new RangeError('failure.times must be an integer >= 1');
    }
    scope.times = raw.times;
  }
  switch (mode) {
    case 'drop-mid-stream': {
      const afterTokens = raw.afterTokens;
      if (typeof afterTokens !== 'number' || !Number.isInteger(afterTokens) || afterTokens < 0) {
        throw new RangeError('failure.afterTokens must be an integer >= 0 for drop-mid-stream');
      }
      return { mode, afterTokens, ...scope };
    }
    case 'error-500':
      if (raw.message !== undefined && typeof raw.message !== 'string') {
        throw new RangeError('failure.message must be a string');
      }
      return raw.message === undefined ? { mode, ...scope } : { mode, message: raw.message, ...scope };
    default:
      return { mode, ...scope } as FailureSetting;
  }
}
