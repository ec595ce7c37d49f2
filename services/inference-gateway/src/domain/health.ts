import type { Backend } from './backend.js';
import type { ModelInventory } from './inventory.js';
import type { BackendPool } from './pool.js';
import { type UpstreamClient, describeFailure } from './upstream.js';

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  ejectAfterFailures: number;
  ejectBaseMs: number;
  ejectMaxMs: number;
}

interface HealthLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Active checks (GET /api/version) and passive ejection: failures in a row take a backend out for a
 * cooldown that doubles with each ejection in a row; after it, a passing check brings it back.
 */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly checking = new Set<Backend>();

  constructor(
    private readonly pool: BackendPool,
    private readonly upstream: UpstreamClient,
    private readonly inventory: ModelInventory,
    private readonly options: HealthOptions,
    private readonly logger: HealthLogger,
    private readonly onEjected: (backend: Backend) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  checkAll(): Promise<void> {
    const now = this.now();
    const due = this.pool
      .list()
      .filter((b) => b.state !== 'draining' && !(b.state === 'ejected' && b.ejectedUntil > now));
    return Promise.all(due.map((backend) => this.check(backend))).then(() => undefined);
  }

  /** One active check; a backend that was not healthy must also list its models before it returns. */
  async check(backend: Backend): Promise<void> {
    if (this.checking.has(backend)) return;
    this.checking.add(backend);
    try {
      const body = await this.upstream.getJson(`${backend.url}/api/version`, this.options.timeoutMs);
      const version = (body as { version?: unknown } | null)?.version;
      backend.version = typeof version === 'string' ? version : backend.version;
      if (backend.state !== 'healthy' || !backend.inventoryLoaded) await this.inventory.refresh(backend);
      if (backend.state === 'pending' || backend.state === 'ejected') this.markHealthy(backend);
    } catch (error) {
      if (backend.state === 'draining') return;
      if (backend.state === 'ejected') this.eject(backend, describeFailure(error));
      else this.reportFailure(backend, describeFailure(error));
    } finally {
      this.checking.delete(backend);
    }
  }

  /** A request to the backend worked. */
  reportSuccess(backend: Backend): void {
    backend.consecutiveFailures = 0;
  }

  /** A connection error, a timeout or a 5xx (not a 503 "busy"): counts toward ejection. */
  reportFailure(backend: Backend, reason: string): void {
    backend.errors += 1;
    backend.lastError = reason;
    backend.consecutiveFailures += 1;
    if (backend.state === 'healthy' && backend.consecutiveFailures >= this.options.ejectAfterFailures) {
      this.eject(backend, reason);
    } else if (backend.state === 'pending') {
      backend.lastError = reason;
    }
  }

  private eject(backend: Backend, reason: string): void {
    const now = this.now();
    const wasHealthy = backend.state === 'healthy';
    // A backend that stayed up for a whole maximum cooldown starts its backoff afresh.
    if (wasHealthy && now - backend.healthySince > this.options.ejectMaxMs) backend.ejections = 0;
    backend.ejections += 1;
    const cooldown = Math.min(
      this.options.ejectMaxMs,
      this.options.ejectBaseMs * 2 ** Math.min(backend.ejections - 1, 30),
    );
    backend.state = 'ejected';
    backend.ejectedUntil = now + cooldown;
    backend.lastError = reason;
    if (wasHealthy) {
      this.logger.warn('backend ejected', { backend: backend.id, reason, cooldownMs: cooldown });
      this.onEjected(backend);
    }
    this.pool.changed();
  }

  private markHealthy(backend: Backend): void {
    const returning = backend.state === 'ejected';
    backend.state = 'healthy';
    backend.consecutiveFailures = 0;
    backend.healthySince = this.now();
    this.logger.info(returning ? 'backend returned' : 'backend joined', {
      backend: backend.id,
      url: backend.url,
      models: [...backend.models.keys()],
    });
    this.pool.changed();
  }
}
