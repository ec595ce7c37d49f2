import { createHash } from 'node:crypto';
import { normalizeModelName } from '@corral/contracts';

export type SimModelKind = 'chat' | 'embedding';

/** A model the simulator pretends to hold. Only `name` is required; the rest is inferred from it. */
export interface SimModelSpec {
  name: string;
  kind?: SimModelKind;
  /** Vector length for /api/embed and /v1/embeddings. */
  embeddingDimension?: number;
  parameterSize?: string;
  quantizationLevel?: string;
  /** Size on disk in bytes, as reported by /api/tags. */
  size?: number;
}

export interface SimModel {
  name: string;
  kind: SimModelKind;
  embeddingDimension: number;
  parameterSize: string;
  quantizationLevel: string;
  size: number;
  digest: string;
  modifiedAt: string;
}

interface KnownModel {
  kind: SimModelKind;
  embeddingDimension: number;
  parameterSize: string;
  quantizationLevel: string;
  size: number;
}

// Real models' public shapes, so clients that size vectors or show sizes see familiar numbers.
const KNOWN_MODELS: Record<string, KnownModel> = {
  'llama3.2': {
    kind: 'chat',
    embeddingDimension: 3072,
    parameterSize: '3.2B',
    quantizationLevel: 'Q4_K_M',
    size: 2019393189,
  },
  'llama3.1': {
    kind: 'chat',
    embeddingDimension: 4096,
    parameterSize: '8.0B',
    quantizationLevel: 'Q4_K_M',
    size: 4920753328,
  },
  'nomic-embed-text': {
    kind: 'embedding',
    embeddingDimension: 768,
    parameterSize: '137M',
    quantizationLevel: 'F16',
    size: 274302450,
  },
  'all-minilm': {
    kind: 'embedding',
    embeddingDimension: 384,
    parameterSize: '23M',
    quantizationLevel: 'F16',
    size: 45960996,
  },
  'mxbai-embed-large': {
    kind: 'embedding',
    embeddingDimension: 1024,
    parameterSize: '334M',
    quantizationLevel: 'F16',
    size: 669615493,
  },
  'bge-m3': {
    kind: 'embedding',
    embeddingDimension: 1024,
    parameterSize: '567M',
    quantizationLevel: 'F16',
    size: 1157672605,
  },
};

const EMBEDDING_NAME = /embed|minilm|bge|(^|[-/])e5([-:]|$)/i;

function baseName(normalized: string): string {
  const withoutTag = normalized.slice(0, normalized.lastIndexOf(':'));
  return withoutTag.slice(withoutTag.lastIndexOf('/') + 1);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function describeModel(spec: SimModelSpec, modifiedAt: string): SimModel {
  const name = normalizeModelName(spec.name);
  const known = KNOWN_MODELS[baseName(name)];
  const kind = spec.kind ?? known?.kind ?? (EMBEDDING_NAME.test(name) ? 'embedding' : 'chat');
  const digest = sha256Hex(`ollama-sim:${name}`);
  return {
    name,
    kind,
    embeddingDimension:
      spec.embeddingDimension ?? known?.embeddingDimension ?? (kind === 'embedding' ? 768 : 4096),
    parameterSize: spec.parameterSize ?? known?.parameterSize ?? (kind === 'embedding' ? '137M' : '7B'),
    quantizationLevel: spec.quantizationLevel ?? known?.quantizationLevel ?? 'Q4_K_M',
    size: spec.size ?? known?.size ?? 1_000_000_000 + (parseInt(digest.slice(0, 7), 16) % 4_000_000_000),
    digest,
    modifiedAt,
  };
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

/** The models the simulator holds, and which of them are "loaded" (for /api/ps). */
export class ModelRegistry {
  private readonly models = new Map<string, SimModel>();
  private readonly loadedUntil = new Map<string, number>();

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

  list(): SimModel[] {
    return [...this.models.values()];
  }

  /** Marks a model loaded for `keepAliveMs` (negative: forever, 0: unload). */
  touch(model: SimModel, keepAliveMs: number): void {
    if (keepAliveMs === 0) this.loadedUntil.delete(model.name);
    else this.loadedUntil.set(model.name, keepAliveMs < 0 ? Infinity : Date.now() + keepAliveMs);
  }

  loaded(): Array<{ model: SimModel; expiresAt: number }> {
    const now = Date.now();
    const out: Array<{ model: SimModel; expiresAt: number }> = [];
    for (const [name, expiresAt] of this.loadedUntil) {
      const model = this.models.get(name);
      if (model && expiresAt > now) out.push({ model, expiresAt });
    }
    return out;
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Ollama's keep_alive: seconds as a number, or a Go duration string like "5m"; default 5 minutes. */
export function parseKeepAlive(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? -1 : value * 1000;
  if (typeof value === 'string') {
    const match = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
    if (match) {
      const amount = Number(match[1]);
      return amount < 0 ? -1 : amount * (DURATION_UNITS[match[2] ?? 's'] ?? 1000);
    }
  }
  return 5 * 60_000;
}
