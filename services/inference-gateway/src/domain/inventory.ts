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

/** Which models each backend holds, read from its /api/tags on a timer and whenever it (re)joins. */
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

  /** Reads one backend's models; throws when it cannot (the caller decides what that means). */
  async refresh(backend: Backend): Promise<void> {
    try {
      const body = await this.upstream.getJson(`${backend.url}/api/tags`, this.options.timeoutMs);
      backend.models = parseTags(body);
      backend.inventoryLoaded = true;
      this.pool.changed();
    } catch (error) {
      this.logger.warn('model inventory read failed', { backend: backend.id, error: describeFailure(error) });
      throw error;
    }
  }
}
