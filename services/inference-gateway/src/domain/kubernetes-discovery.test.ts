import { afterEach, describe, expect, it } from 'vitest';
import type { BackendTarget } from './backend.js';
import {
  type EndpointSliceApi,
  type EndpointSliceLike,
  type EndpointSliceList,
  KubernetesDiscovery,
} from './kubernetes-discovery.js';

const silent = { info: () => {}, warn: () => {} };

function slice(
  name: string,
  endpoints: Array<{ pod: string; ip: string; ready?: boolean; terminating?: boolean }>,
): EndpointSliceLike {
  return {
    metadata: { name },
    addressType: 'IPv4',
    endpoints: endpoints.map(({ pod, ip, ready, terminating }) => ({
      addresses: [ip],
      conditions: { ready: ready ?? true, terminating: terminating ?? false },
      targetRef: { kind: 'Pod', name: pod, namespace: 'gpu' },
    })),
  };
}

/** A fake API server: lists what it is given, and lets the test drive the open watch. */
class FakeApi implements EndpointSliceApi {
  lists: EndpointSliceList[] = [];
  listCalls = 0;
  watches: Array<{
    path: string;
    query: Record<string, unknown>;
    emit: (phase: string, object: unknown) => void;
    end: (error?: unknown) => void;
    aborted: boolean;
  }> = [];

  async list(namespace: string, labelSelector: string): Promise<EndpointSliceList> {
    expect(namespace).toBe('gpu');
    expect(labelSelector).toBe('kubernetes.io/service-name=ollama');
    const list = this.lists[Math.min(this.listCalls, this.lists.length - 1)] ?? { items: [] };
    this.listCalls += 1;
    return list;
  }

  async watch(
    path: string,
    query: Record<string, string | boolean | number>,
    onEvent: (phase: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ) {
    const entry = {
      path,
      query,
      emit: onEvent,
      end: (error?: unknown) => onDone(error ?? null),
      aborted: false,
    };
    this.watches.push(entry);
    return {
      abort: () => {
        entry.aborted = true;
        onDone(null);
      },
    };
  }
}

function recordingSink() {
  const backends = new Map<string, BackendTarget>();
  return {
    backends,
    sink: {
      upsert: (target: BackendTarget) => void backends.set(target.id, target),
      remove: (id: string) => void backends.delete(id),
    },
  };
}

let discovery: KubernetesDiscovery | undefined;
afterEach(() => discovery?.stop());

describe('KubernetesDiscovery', () => {
  it('lists, then watches from the list’s resourceVersion; ready pods join, gone ones leave', async () => {
    const api = new FakeApi();
    api.lists = [
      {
        metadata: { resourceVersion: '100' },
        items: [slice('ollama-abc', [{ pod: 'ollama-0', ip: '10.0.0.1' }])],
      },
    ];
    const { backends, sink } = recordingSink();
    discovery = new KubernetesDiscovery(api, { namespace: 'gpu', service: 'ollama', port: 11434 }, silent);
    await discovery.start(sink);

    expect([...backends.values()]).toEqual([{ id: 'ollama-0', url: 'http://10.0.0.1:11434' }]);
    const watch = api.watches[0];
    expect(watch?.path).toBe('/apis/discovery.k8s.io/v1/namespaces/gpu/endpointslices');
    expect(watch?.query).toMatchObject({
      labelSelector: 'kubernetes.io/service-name=ollama',
      resourceVersion: '100',
    });

    // ollama-1 is created but not ready yet: not a backend.
    watch?.emit(
      'MODIFIED',
      slice('ollama-abc', [
        { pod: 'ollama-0', ip: '10.0.0.1' },
        { pod: 'ollama-1', ip: '10.0.0.2', ready: false },
      ]),
    );
    expect([...backends.keys()]).toEqual(['ollama-0']);

    // It becomes ready: it joins.
    watch?.emit(
      'MODIFIED',
      slice('ollama-abc', [
        { pod: 'ollama-0', ip: '10.0.0.1' },
        { pod: 'ollama-1', ip: '10.0.0.2' },
      ]),
    );
    expect(backends.get('ollama-1')).toEqual({ id: 'ollama-1', url: 'http://10.0.0.2:11434' });

    // ollama-0 is terminating, then deleted from the slice: it leaves.
    watch?.emit(
      'MODIFIED',
      slice('ollama-abc', [
        { pod: 'ollama-0', ip: '10.0.0.1', terminating: true },
        { pod: 'ollama-1', ip: '10.0.0.2' },
      ]),
    );
    expect([...backends.keys()]).toEqual(['ollama-1']);

    // A whole slice deleted takes its endpoints with it.
    watch?.emit('DELETED', slice('ollama-abc', []));
    expect(backends.size).toBe(0);
  });

  it('reconnects when the watch ends, re-listing so changes made meanwhile are not missed', async () => {
    const api = new FakeApi();
    api.lists = [
      {
        metadata: { resourceVersion: '1' },
        items: [
          slice('s1', [{ pod: 'ollama-0', ip: '10.0.0.1' }]),
          slice('s2', [{ pod: 'ollama-1', ip: '10.0.0.2' }]),
        ],
      },
      // While disconnected, slice s2 was deleted and a pod was added to s1.
      {
        metadata: { resourceVersion: '7' },
        items: [
          slice('s1', [
            { pod: 'ollama-0', ip: '10.0.0.1' },
            { pod: 'ollama-2', ip: '10.0.0.3' },
          ]),
        ],
      },
    ];
    const { backends, sink } = recordingSink();
    discovery = new KubernetesDiscovery(
      api,
      { namespace: 'gpu', service: 'ollama', port: 11434, backoffMs: 10 },
      silent,
    );
    await discovery.start(sink);
    expect([...backends.keys()].sort()).toEqual(['ollama-0', 'ollama-1']);

    api.watches[0]?.end(new Error('connection reset by API server'));
    await expect.poll(() => api.watches.length).toBe(2);
    expect(api.watches[1]?.query).toMatchObject({ resourceVersion: '7' });
    expect([...backends.keys()].sort()).toEqual(['ollama-0', 'ollama-2']);

    // A 410 Gone error event ends the watch too and starts over.
    api.watches[1]?.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await expect.poll(() => api.watches.length).toBe(3);
  });

  it('stops watching on stop()', async () => {
    const api = new FakeApi();
    api.lists = [{ metadata: { resourceVersion: '1' }, items: [] }];
    discovery = new KubernetesDiscovery(
      api,
      { namespace: 'gpu', service: 'ollama', port: 11434, backoffMs: 10 },
      silent,
    );
    await discovery.start(recordingSink().sink);
    discovery.stop();
    expect(api.watches[0]?.aborted).toBe(true);
    expect(api.listCalls).toBe(1);
  });

  it('brackets IPv6 addresses and falls back to the address when there is no targetRef', () => {
    discovery = new KubernetesDiscovery(
      new FakeApi(),
      { namespace: 'gpu', service: 'ollama', port: 11434 },
      silent,
    );
    const targets = discovery.targetsOf({
      metadata: { name: 's' },
      endpoints: [{ addresses: ['fd00::5'], conditions: {} }],
    });
    expect([...targets.values()]).toEqual([{ id: 'fd00::5', url: 'http://[fd00::5]:11434' }]);
  });
});
