import { normalizeModelName } from '@corral/contracts';
import type { Backend, TagEntry } from './backend.js';
import type { BackendPool } from './pool.js';
import { type UpstreamClient, describeFailure } from './upstream.js';

interface InventoryLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

function parseTags(body: unknown): Map<string, TagEntry> {
  const models = new Map<string, TagEntry>();
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw new Error('/api/tags answered without a models array');
  for (const item of list) {
    if (item === null || typeof item !== 'object') continue;
    const entry = item as TagEntry;
    const name = typeof entry.name === 'string' ? entry.name : entry.model;
    if (typeof name !== 'string' || name === '') continue;
    models.set(normalizeModelName(name), entry);
  }
  return models;
}

/**
 * Loaded models from an /api/ps answer: normalized name → when it unloads (ms). A model without a
 * readable expires_at is taken as loaded for `fallbackMs`.
 */
export function parsePs(body: unknown, now: number, fallbackMs: number): Map<string, number> {
  const loaded = new Map<string, number>();
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw new Error('/api/ps answered without a models array');
  for (const item of list) {
    if (item === null || typeof item !== 'object') continue;
    const entry = item as { name?: unknown; model?: unknown; expires_at?: unknown };
    const name = typeof entry.name === 'string' ? entry.name : entry.model;
    if (typeof name !== 'string' || name === '') continue;
    const expires = typeof entry.expires_at === 'string' ? Date.parse(entry.expires_at) : Number.NaN;
    // Ollama shows a far-future (or zero) expiry for a pinned model; anything unreadable counts as loaded.
    loaded.set(normalizeModelName(name), Number.isNaN(expires) || expires <= 0 ? now + fallbackMs : expires);
  }
  return loaded;
}

/**
 * Which models each backend holds and has loaded, read from its /api/tags and /api/ps on a timer
 * and whenever it (re)joins.
 */
export class ModelInventory {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: BackendPool,
    private readonly upstream: UpstreamClient,
    private readonly options: { pollMs: number; timeoutMs: number },
    private readonly logger: InventoryLogger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refreshAll(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refreshAll(): Promise<void> {
    await Promise.all(
      this.pool
        .list()
        .filter((backend) => backend.state === 'healthy')
        .map((backend) => this.refresh(backend).catch(() => undefined)),
    );
  }

  /** Reads which models the backend has loaded (/api/ps); a backend without it keeps what was seen. */
  private async refreshLoaded(backend: Backend): Promise<void> {
    try {
      const body = await this.upstream.getJson(`${backend.url}/api/ps`, this.options.timeoutMs);
      backend.loaded = parsePs(body, Date.now(), this.options.pollMs);
    } catch (error) {
      this.logger.warn('loaded-model read failed', { backend: backend.id, error: describeFailure(error) });
    }
  }

  /** Reads one backend's models; throws when it cannot (the caller decides what that means). */
  async refresh(backend: Backend): Promise<void> {
    try {
      const body = await this.upstream.getJson(`${backend.url}/api/tags`, this.options.timeoutMs);
      backend.models = parseTags(body);
      backend.inventoryLoaded = true;
      await this.refreshLoaded(backend);
      this.pool.changed();
    } catch (error) {
      this.logger.warn('model inventory read failed', { backend: backend.id, error: describeFailure(error) });
      throw error;
    }
  }
}
