import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PodEndpoint {
  pod: string;
  ip: string;
  ready: boolean;
  /** Being deleted: Kubernetes reports it not ready, still serving while it shuts down. */
  terminating?: boolean;
}

interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: { name: string; namespace: string; labels: Record<string, string>; resourceVersion?: string };
  addressType: 'IPv4';
  ports: Array<{ name: string; port: number; protocol: 'TCP' }>;
  endpoints: Array<{
    addresses: string[];
    conditions: { ready: boolean; serving: boolean; terminating: boolean };
    targetRef: { kind: 'Pod'; name: string; namespace: string };
  }>;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: EndpointSlice;
  version: number;
}

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/**
 * Just enough of a Kubernetes API server for EndpointSlice discovery: list (with resourceVersion)
 * and watch (newline-delimited events, replayed from the given resourceVersion), filtered by the
 * `kubernetes.io/service-name` label selector, behind a bearer token.
 */
export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<{ res: ServerResponse; selector: string }>();
  private version = 1000;
  private server: Server | undefined;
  url = '';

  constructor(
    readonly namespace: string,
    private readonly token: string,
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Creates or replaces a slice of `service`, telling every open watch. */
  apply(service: string, name: string, endpoints: PodEndpoint[]): void {
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: this.namespace, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: this.port, protocol: 'TCP' }],
      endpoints: endpoints.map(({ pod, ip, ready, terminating = false }) => ({
        addresses: [ip],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        targetRef: { kind: 'Pod', name: pod, namespace: this.namespace },
      })),
    };
    this.record(this.slices.has(name) ? 'MODIFIED' : 'ADDED', slice);
    this.slices.set(name, slice);
  }

  delete(name: string): void {
    const slice = this.slices.get(name);
    if (!slice) return;
    this.slices.delete(name);
    this.record('DELETED', slice);
  }

  /** Ends every open watch, as an API server does at its timeout or on restart. */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.query.get('watch') === 'true');
  }

  private record(type: WatchEvent['type'], slice: EndpointSlice): void {
    this.version += 1;
    const object = { ...slice, metadata: { ...slice.metadata, resourceVersion: String(this.version) } };
    const event = { type, object, version: this.version };
    this.events.push(event);
    for (const watcher of this.watchers) this.send(watcher.res, watcher.selector, event);
  }

  private send(res: ServerResponse, selector: string, event: WatchEvent): void {
    if (!matches(event.object, selector)) return;
    res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
    });
    const status = (code: number, message: string) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized');
    if (
      req.method !== 'GET' ||
      url.pathname !== `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`
    ) {
      return status(404, `no route ${req.method} ${url.pathname}`);
    }
    const selector = url.searchParams.get('labelSelector') ?? '';
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const from = Number(url.searchParams.get('resourceVersion') ?? this.version);
      for (const event of this.events) if (event.version > from) this.send(res, selector, event);
      const watcher = { res, selector };
      this.watchers.add(watcher);
      res.on('close', () => this.watchers.delete(watcher));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSliceList',
        metadata: { resourceVersion: String(this.version) },
        items: [...this.slices.values()].filter((slice) => matches(slice, selector)),
      }),
    );
  }
}

/** Equality selectors only (`a=b,c=d`), which is what discovery sends. */
function matches(slice: EndpointSlice, selector: string): boolean {
  return selector
    .split(',')
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split('=');
      return key !== undefined && slice.metadata.labels[key] === value;
    });
}
