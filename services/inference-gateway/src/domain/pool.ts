import { Backend, type BackendTarget, type TagEntry } from './backend.js';

type PoolListener = () => void;

/**
 * The backends the gateway knows. Discovery adds and removes them; a removed backend with requests
 * still running is drained (no new work) and forgotten when its last request ends.
 */
export class BackendPool {
  private readonly backends = new Map<string, Backend>();
  private readonly listeners = new Set<PoolListener>();
  private readonly addedListeners = new Set<(backend: Backend) => void>();

  constructor(private readonly tokenRateWindowMs: number) {}

  list(): Backend[] {
    return [...this.backends.values()];
  }

  get(id: string): Backend | undefined {
    return this.backends.get(id);
  }

  get size(): number {
    return this.backends.size;
  }

  /** Something that affects routing changed (state, models, a free slot): waiting requests may go. */
  onChange(listener: PoolListener): void {
    this.listeners.add(listener);
  }

  onAdded(listener: (backend: Backend) => void): void {
    this.addedListeners.add(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  upsert(target: BackendTarget): Backend {
    const existing = this.backends.get(target.id);
    if (existing && existing.url === target.url) {
      // A pod that was going away is back (ready again): it is checked before it takes traffic.
      if (existing.state === 'draining') existing.state = 'pending';
      return existing;
    }
    if (existing) this.remove(existing.id);
    const backend = new Backend(target.id, target.url, this.tokenRateWindowMs);
    this.backends.set(target.id, backend);
    for (const listener of this.addedListeners) listener(backend);
    return backend;
  }

  remove(id: string): void {
    const backend = this.backends.get(id);
    if (!backend) return;
    if (backend.inFlight > 0) {
      backend.state = 'draining';
    } else {
      this.backends.delete(id);
    }
    this.changed();
  }

  /** Drain on request (admin): no new work; it stays listed and returns only if rediscovered. */
  drain(id: string): Backend | undefined {
    const backend = this.backends.get(id);
    if (backend) {
      backend.state = 'draining';
      this.changed();
    }
    return backend;
  }

  /** Called when a request on `backend` ends. */
  requestEnded(backend: Backend): void {
    if (backend.state === 'draining' && backend.inFlight === 0 && this.backends.get(backend.id) === backend) {
      this.backends.delete(backend.id);
    }
    this.changed();
  }

  hasHealthy(): boolean {
    for (const backend of this.backends.values()) if (backend.state === 'healthy') return true;
    return false;
  }

  /** Whether any known backend (whatever its state) lists the model. */
  anyHolds(model: string): boolean {
    for (const backend of this.backends.values()) if (backend.holds(model)) return true;
    return false;
  }

  /** The union of every backend's models, one entry per name. */
  modelUnion(): Map<string, { entry: TagEntry; backends: string[] }> {
    const union = new Map<string, { entry: TagEntry; backends: string[] }>();
    for (const backend of this.backends.values()) {
      for (const [name, entry] of backend.models) {
        const known = union.get(name);
        if (known) known.backends.push(backend.id);
        else union.set(name, { entry, backends: [backend.id] });
      }
    }
    return union;
  }
}
