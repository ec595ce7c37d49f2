import type { Backend } from './backend.js';
import type { ModelInventory } from './inventory.js';
import type { BackendPool } from './pool.js';
import { type UpstreamClient, describeFailure } from './upstream.js';

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  ejectAfterFailures: number;
  /** Failures older than this no longer count toward ejection. */
  ejectWindowMs: number;
  ejectBaseMs: number;
  ejectMaxMs: number;
}

interface HealthLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** Where a failure was seen: a request before its first byte, a stream that broke later, or an active check. */
export type FailureSource = 'request' | 'stream' | 'check';

/**
 * Active checks (GET /api/version) and passive ejection: `ejectAfterFailures` failures within
 * `ejectWindowMs` take a backend out for a cooldown that doubles with each ejection in a row; after
 * it, a passing check brings it back. A broken stream never ejects the last healthy backend on its
 * own: it asks for an active check at once, and only that check's failure can eject it.
 */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly checking = new Set<Backend>();
  /** When each backend's recent failures happened (within the window). */
  private readonly failures = new WeakMap<Backend, number[]>();

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
      else this.reportFailure(backend, describeFailure(error), 'check');
    } finally {
      this.checking.delete(backend);
    }
  }

  /** A request to the backend worked. */
  reportSuccess(backend: Backend): void {
    backend.consecutiveFailures = 0;
    this.failures.delete(backend);
  }

  /** A connection error, a timeout, a 5xx or a broken stream: counts toward ejection within the window. */
  reportFailure(backend: Backend, reason: string, source: FailureSource = 'request'): void {
    backend.errors += 1;
    backend.lastError = reason;
    const now = this.now();
    const recent = (this.failures.get(backend) ?? []).filter((at) => now - at < this.options.ejectWindowMs);
    recent.push(now);
    this.failures.set(backend, recent);
    backend.consecutiveFailures = recent.length;
    if (backend.state !== 'healthy' || recent.length < this.options.ejectAfterFailures) return;
    if (source === 'stream' && this.isLastHealthy(backend)) {
      // One dropped stream is no proof the only backend is down: a failing check decides.
      void this.check(backend);
      return;
    }
    this.eject(backend, reason);
  }

  private isLastHealthy(backend: Backend): boolean {
    return this.pool.list().every((other) => other === backend || other.state !== 'healthy');
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
    this.failures.delete(backend);
    backend.healthySince = this.now();
    this.logger.info(returning ? 'backend returned' : 'backend joined', {
      backend: backend.id,
      url: backend.url,
      models: [...backend.models.keys()],
    });
    this.pool.changed();
  }
}
