import type { KubeConfig } from '@kubernetes/client-node';
import type { BackendTarget } from './backend.js';
import type { Discovery, DiscoverySink } from './discovery.js';

/** The parts of a discovery.k8s.io/v1 EndpointSlice the gateway reads. */
export interface EndpointSliceLike {
  metadata?: { name?: string; resourceVersion?: string };
  addressType?: string;
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    targetRef?: { kind?: string; name?: string; namespace?: string };
  }>;
}

export interface EndpointSliceList {
  metadata?: { resourceVersion?: string };
  items: EndpointSliceLike[];
}

/** The Kubernetes calls discovery needs; the real ones come from @kubernetes/client-node. */
export interface EndpointSliceApi {
  list(namespace: string, labelSelector: string): Promise<EndpointSliceList>;
  /**
   * Watches from `resourceVersion`; `onEvent` gets ADDED/MODIFIED/DELETED/BOOKMARK/ERROR, `onDone`
   * is called once when the watch ends (server timeout, dropped connection, error).
   */
  watch(
    path: string,
    query: Record<string, string | boolean | number>,
    onEvent: (phase: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export interface KubernetesDiscoveryOptions {
  namespace: string;
  service: string;
  port: number;
  scheme?: 'http' | 'https';
  /** First reconnect delay; doubles up to maxBackoffMs while the API server keeps failing. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface DiscoveryLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * An endpoint takes new requests when ready (unset means ready, per the API), serving and not
 * terminating; one that leaves is drained (its streams finish, nothing new goes to it).
 */
function isReady(endpoint: NonNullable<EndpointSliceLike['endpoints']>[number]): boolean {
  const conditions = endpoint.conditions ?? {};
  return conditions.ready !== false && conditions.serving !== false && conditions.terminating !== true;
}

/**
 * Follows the EndpointSlices of a (headless) Service: list, then watch from the list's
 * resourceVersion; ready endpoints become backends, gone or unready ones are removed. When the
 * watch ends it lists again (catching anything missed) and re-watches, backing off on errors.
 */
export class KubernetesDiscovery implements Discovery {
  /** Slice name → the backends it currently contributes. */
  private readonly slices = new Map<string, Map<string, BackendTarget>>();
  /** Backend id → target, as last reported to the sink (an endpoint may briefly be in two slices). */
  private readonly known = new Map<string, BackendTarget>();
  private sink: DiscoverySink | undefined;
  private current: { abort(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private readonly options: Required<KubernetesDiscoveryOptions>;

  constructor(
    private readonly api: EndpointSliceApi,
    options: KubernetesDiscoveryOptions,
    private readonly logger: DiscoveryLogger,
  ) {
    this.options = { scheme: 'http', backoffMs: 1000, maxBackoffMs: 30_000, ...options };
  }

  get labelSelector(): string {
    return `kubernetes.io/service-name=${this.options.service}`;
  }

  get watchPath(): string {
    return `/apis/discovery.k8s.io/v1/namespaces/${this.options.namespace}/endpointslices`;
  }

  async start(sink: DiscoverySink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    await this.listAndWatch();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.current?.abort();
    this.current = undefined;
  }

  /** The backends one slice lists as ready. */
  targetsOf(slice: EndpointSliceLike): Map<string, BackendTarget> {
    const targets = new Map<string, BackendTarget>();
    for (const endpoint of slice.endpoints ?? []) {
      if (!isReady(endpoint)) continue;
      const address = endpoint.addresses?.[0];
      if (!address) continue;
      const host = address.includes(':') ? `[${address}]` : address;
      const id = endpoint.targetRef?.name ?? address;
      targets.set(id, { id, url: `${this.options.scheme}://${host}:${this.options.port}` });
    }
    return targets;
  }

  /** Applies one watch event. */
  handleEvent(phase: string, object: unknown): void {
    const slice = object as EndpointSliceLike;
    const name = slice?.metadata?.name;
    if (phase === 'ERROR') {
      this.logger.warn('endpointslice watch error event', { object });
      // 410 Gone: our resourceVersion is too old; end this watch so a fresh list + watch begins.
      this.current?.abort();
      return;
    }
    if (name === undefined || (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED')) return;
    this.setSlice(name, phase === 'DELETED' ? new Map() : this.targetsOf(slice));
  }

  /** Replaces everything with a fresh list (after a reconnect, slices deleted meanwhile vanish). */
  applyList(list: EndpointSliceList): void {
    const seen = new Set<string>();
    for (const slice of list.items) {
      const name = slice.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      this.setSlice(name, this.targetsOf(slice));
    }
    for (const name of [...this.slices.keys()]) if (!seen.has(name)) this.setSlice(name, new Map());
  }

  private setSlice(name: string, targets: Map<string, BackendTarget>): void {
    if (targets.size === 0) this.slices.delete(name);
    else this.slices.set(name, targets);
    const now = new Map<string, BackendTarget>();
    for (const sliceTargets of this.slices.values()) {
      for (const [id, target] of sliceTargets) now.set(id, target);
    }
    for (const [id, target] of now) {
      const before = this.known.get(id);
      if (!before || before.url !== target.url) {
        this.logger.info('backend discovered', { backend: id, url: target.url });
        this.sink?.upsert(target);
      }
    }
    for (const id of this.known.keys()) {
      if (!now.has(id)) {
        this.logger.info('backend gone', { backend: id });
        this.sink?.remove(id);
      }
    }
    this.known.clear();
    for (const [id, target] of now) this.known.set(id, target);
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await this.api.list(this.options.namespace, this.labelSelector);
      this.applyList(list);
      const resourceVersion = list.metadata?.resourceVersion;
      let ended = false;
      const watch = await this.api.watch(
        this.watchPath,
        {
          labelSelector: this.labelSelector,
          allowWatchBookmarks: true,
          ...(resourceVersion ? { resourceVersion } : {}),
        },
        (phase, object) => {
          this.failures = 0;
          this.handleEvent(phase, object);
        },
        (error) => {
          if (ended) return;
          ended = true;
          this.current = undefined;
          if (this.stopped) return;
          if (error) this.logger.warn('endpointslice watch ended', { error: String(error) });
          // A clean end is the API server's watch timeout: re-list soon; errors back off.
          this.scheduleReconnect(error ? undefined : this.options.backoffMs);
        },
      );
      if (this.stopped) watch.abort();
      else if (!ended) this.current = watch;
    } catch (error) {
      this.logger.warn('endpointslice list/watch failed', { error: String(error) });
      this.scheduleReconnect();
    }
  }

  /** Re-lists and re-watches after a pause that grows while failures continue. */
  private scheduleReconnect(delayMs?: number): void {
    if (this.stopped) return;
    const { backoffMs, maxBackoffMs } = this.options;
    const delay = delayMs ?? Math.min(maxBackoffMs, backoffMs * 2 ** Math.min(this.failures, 20));
    if (delayMs === undefined) this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.listAndWatch(), delay);
    this.retryTimer.unref();
  }
}

/**
 * The real API through @kubernetes/client-node (loaded only when discovery is on): in-cluster
 * credentials or KUBECONFIG by default, or the given config (tests point it at a local server).
 */
export async function kubernetesEndpointSliceApi(kubeConfig?: KubeConfig): Promise<EndpointSliceApi> {
  const k8s = await import('@kubernetes/client-node');
  let config = kubeConfig;
  if (!config) {
    config = new k8s.KubeConfig();
    config.loadFromDefault();
  }
  const discoveryApi = config.makeApiClient(k8s.DiscoveryV1Api);
  const watcher = new k8s.Watch(config);
  return {
    async list(namespace, labelSelector) {
      const list = await discoveryApi.listNamespacedEndpointSlice({ namespace, labelSelector });
      return list as unknown as EndpointSliceList;
    },
    watch: (path, query, onEvent, onDone) => watcher.watch(path, query, onEvent, onDone),
  };
}

/** The namespace this pod runs in, from the service-account mount. */
export async function podNamespace(): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  return readFile('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8')
    .then((text) => text.trim() || undefined)
    .catch(() => undefined);
}
