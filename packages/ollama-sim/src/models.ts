import { createHash } from 'node:crypto';
import { normalizeModelName } from '@corral/contracts';

import {
  CAPABILITIES,
  KNOWN_MODELS,
  capabilitiesFromName,
  type Capability,
  type ImageEngine,
} from './known-models.js';

export type { Capability } from './known-models.js';

export type SimModelKind = 'chat' | 'embedding';

/** A model the simulator pretends to hold. Only `name` is required; the rest is inferred from it. */
export interface SimModelSpec {
  name: string;
  /** `embedding` is short for `capabilities: ['embedding']`. */
  kind?: SimModelKind;
  /** As `/api/show` reports them; default: the real model's, or guessed from the name. */
  capabilities?: Capability[];
  /** Vector length for /api/embed and /v1/embeddings. */
  embeddingDimension?: number;
  parameterSize?: string;
  quantizationLevel?: string;
  /** Size on disk in bytes, as reported by /api/tags. */
  size?: number;
  /** Time to load this model into (simulated) GPU memory; default: the `loadMs` option. */
  loadMs?: number;
}

export interface SimModel {
  name: string;
  kind: SimModelKind;
  capabilities: Capability[];
  embeddingDimension: number;
  parameterSize: string;
  quantizationLevel: string;
  size: number;
  digest: string;
  modifiedAt: string;
  imageEngine: ImageEngine;
  /** What /api/show reports as the model's context length (tokens). */
  contextLength: number;
  loadMs?: number;
}

function baseName(normalized: string): string {
  const withoutTag = normalized.slice(0, normalized.lastIndexOf(':'));
  return withoutTag.slice(withoutTag.lastIndexOf('/') + 1);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function describeModel(spec: SimModelSpec, modifiedAt: string): SimModel {
  const name = normalizeModelName(spec.name);
  const base = baseName(name);
  const known = KNOWN_MODELS[base];
  const capabilities = capabilitiesOf(spec, known?.capabilities ?? capabilitiesFromName(base));
  const kind: SimModelKind = capabilities.includes('embedding') ? 'embedding' : 'chat';
  const digest = sha256Hex(`ollama-sim:${name}`);
  return {
    name,
    kind,
    capabilities,
    embeddingDimension:
      spec.embeddingDimension ?? known?.embeddingDimension ?? (kind === 'embedding' ? 768 : 4096),
    parameterSize: spec.parameterSize ?? known?.parameterSize ?? (kind === 'embedding' ? '137M' : '7B'),
    quantizationLevel: spec.quantizationLevel ?? known?.quantizationLevel ?? 'Q4_K_M',
    size: spec.size ?? known?.size ?? 1_000_000_000 + (parseInt(digest.slice(0, 7), 16) % 4_000_000_000),
    digest,
    modifiedAt,
    imageEngine: known?.imageEngine ?? 'ollama',
    contextLength: known?.contextLength ?? 4096,
    ...(spec.loadMs === undefined ? {} : { loadMs: spec.loadMs }),
  };
}

function capabilitiesOf(spec: SimModelSpec, fallback: Capability[]): Capability[] {
  if (spec.capabilities) {
    const unknown = spec.capabilities.filter((c) => !CAPABILITIES.includes(c));
    if (unknown.length > 0) throw new RangeError(`unknown capabilities: ${unknown.join(', ')}`);
    return [...spec.capabilities];
  }
  if (spec.kind === 'embedding') return ['embedding'];
  if (spec.kind === 'chat' && fallback.includes('embedding')) return ['completion'];
  return [...fallback];
}

/** The name Ollama puts in capability errors: `registry.ollama.ai/library/llava:latest`. */
export function fullModelName(normalized: string): string {
  const parts = normalized.split('/');
  if (parts.length >= 3) return normalized;
  if (parts.length === 2) return `registry.ollama.ai/${normalized}`;
  return `registry.ollama.ai/library/${normalized}`;
}

/** Details block as in /api/tags, /api/ps and /api/show; `family: "sim"` marks it as simulated. */
export function modelDetails(model: SimModel): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: 'sim',
    families: ['sim'],
    parameter_size: model.parameterSize,
    quantization_level: model.quantizationLevel,
  };
}

/** The models the simulator holds (which of them are loaded is the scheduler's business). */
export class ModelRegistry {
  private readonly models = new Map<string, SimModel>();

  constructor(specs: Array<string | SimModelSpec>) {
    for (const spec of specs) this.add(spec);
  }

  add(spec: string | SimModelSpec): SimModel {
    const model = describeModel(typeof spec === 'string' ? { name: spec } : spec, new Date().toISOString());
    this.models.set(model.name, model);
    return model;
  }

  find(name: string): SimModel | undefined {
    return this.models.get(normalizeModelName(name));
  }

  /** Forgets a model (Ollama's `DELETE /api/delete`); false when it was not held. */
  remove(name: string): boolean {
    return this.models.delete(normalizeModelName(name));
  }

  list(): SimModel[] {
    return [...this.models.values()];
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Ollama's keep_alive: seconds as a number, or a Go duration string like "5m"; else the server default. */
export function parseKeepAlive(value: unknown, defaultMs = 5 * 60_000): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? -1 : value * 1000;
  if (typeof value === 'string') {
    const match = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
    if (match) {
      const amount = Number(match[1]);
      return amount < 0 ? -1 : amount * (DURATION_UNITS[match[2] ?? 's'] ?? 1000);
    }
  }
  return defaultMs;
}
