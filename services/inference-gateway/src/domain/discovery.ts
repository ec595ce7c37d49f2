import type { BackendTarget } from './backend.js';

/** Where discovery reports what it sees. */
export interface DiscoverySink {
  /** A backend is (still) there and ready. */
  upsert(target: BackendTarget): void;
  /** A backend left or is no longer ready. */
  remove(id: string): void;
}

/** A source of backends: a static list, or a Kubernetes Service's EndpointSlices. */
export interface Discovery {
  start(sink: DiscoverySink): Promise<void> | void;
  stop(): Promise<void> | void;
}

function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** OLLAMA_URLS: a fixed list; each URL is its own id. */
export class StaticDiscovery implements Discovery {
  constructor(private readonly urls: string[]) {}

  start(sink: DiscoverySink): void {
    for (const url of new Set(this.urls.map(trimUrl))) sink.upsert({ id: url, url });
  }

  stop(): void {}
}
