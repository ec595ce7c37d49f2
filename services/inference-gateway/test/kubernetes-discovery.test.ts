import { KubeConfig } from '@kubernetes/client-node';
import { type OllamaSim, startOllamaSim } from '@corral/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesDiscovery, kubernetesEndpointSliceApi } from '../src/domain/kubernetes-discovery.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { type TestGateway, backendStates, chatBody, postJson, startGateway } from './helpers.js';

const NAMESPACE = 'gpu';
const SERVICE = 'ollama';
const TOKEN = 'service-account-token';
const silent = { info: () => {}, warn: () => {} };

// Pods share one port and differ by IP, as in a cluster: each sim listens on its own loopback address.
const PODS = [
  { pod: 'ollama-0', ip: '127.0.0.2' },
  { pod: 'ollama-1', ip: '127.0.0.3' },
  { pod: 'ollama-2', ip: '127.0.0.4' },
] as const;

let sims: Map<string, OllamaSim>;
let api: FakeKubeApi;
let discovery: KubernetesDiscovery;
let gateway: TestGateway;

async function startPods(): Promise<{ port: number; sims: Map<string, OllamaSim> }> {
  const quiet = { tokensPerSecond: 0, ttftMs: 0, logger: null, models: ['llama3.2'] };
  const first = await startOllamaSim({ ...quiet, host: PODS[0].ip, port: 0 });
  const rest = await Promise.all(
    PODS.slice(1).map(({ ip }) => startOllamaSim({ ...quiet, host: ip, port: first.port })),
  );
  return { port: first.port, sims: new Map(PODS.map(({ pod }, i) => [pod, i === 0 ? first : rest[i - 1]!])) };
}

const routable = async () =>
  (await backendStates(gateway))
    .filter((b) => b.state === 'healthy')
    .map((b) => b.id)
    .sort();

/** Sends `n` chats and returns which pods answered them. */
async function chatPods(n: number): Promise<string[]> {
  const answered: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await postJson(`${gateway.url}/api/chat`, chatBody(`q${i}`, { stream: false }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    answered.push(res.headers.get('x-corral-backend') ?? '');
  }
  return answered;
}

const chatsOn = (pod: string) => sims.get(pod)?.stats().requests['POST /api/chat'] ?? 0;

beforeAll(async () => {
  const pods = await startPods();
  sims = pods.sims;
  api = new FakeKubeApi(NAMESPACE, TOKEN, pods.port);
  await api.start();
  api.apply(SERVICE, 'ollama-abcde', [
    { ...PODS[0], ready: true },
    { ...PODS[1], ready: false },
  ]);
  // Another Service's slice in the namespace: the label selector must keep it out.
  api.apply('other', 'other-xyz', [{ pod: 'stranger', ip: '127.0.0.9', ready: true }]);

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'gateway', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'gateway', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  discovery = new KubernetesDiscovery(
    await kubernetesEndpointSliceApi(kubeConfig),
    { namespace: NAMESPACE, service: SERVICE, port: pods.port, backoffMs: 20 },
    silent,
  );
  gateway = await startGateway([], { ROUTING_STRATEGY: 'round-robin' }, { discovery });
});

afterAll(async () => {
  await gateway?.close();
  await api?.close();
  await Promise.all([...(sims?.values() ?? [])].map((sim) => sim.close()));
});

describe('Kubernetes discovery against an API server over HTTP (the real @kubernetes/client-node)', () => {
  it('lists, then watches from the list’s resourceVersion, with the label selector and the token', async () => {
    await expect.poll(routable).toEqual(['ollama-0']);
    const [list, watch] = api.requests;
    expect(list?.path).toBe(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`);
    expect(list?.query.get('labelSelector')).toBe(`kubernetes.io/service-name=${SERVICE}`);
    expect(list?.query.has('watch')).toBe(false);
    expect(list?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(watch?.query.get('watch')).toBe('true');
    expect(watch?.query.get('labelSelector')).toBe(`kubernetes.io/service-name=${SERVICE}`);
    expect(watch?.query.get('resourceVersion')).toBe('1002');
    expect(watch?.authorization).toBe(`Bearer ${TOKEN}`);
    // The unready pod and the other Service's pod are not backends.
    expect((await backendStates(gateway)).map((b) => b.id)).toEqual(['ollama-0']);
    expect(await chatPods(2)).toEqual(['ollama-0', 'ollama-0']);
  });

  it('a pod that becomes ready is routed to: chats reach its sim', async () => {
    const before = chatsOn('ollama-1');
    api.apply(SERVICE, 'ollama-abcde', [
      { ...PODS[0], ready: true },
      { ...PODS[1], ready: true },
    ]);
    await expect.poll(routable).toEqual(['ollama-0', 'ollama-1']);
    const answered = await chatPods(4);
    expect(answered.filter((pod) => pod === 'ollama-1')).toHaveLength(2);
    expect(chatsOn('ollama-1')).toBe(before + 2);
    const backend = (await backendStates(gateway)).find((b) => b.id === 'ollama-1');
    expect(backend?.url).toBe(sims.get('ollama-1')?.url);
  });

  it('when the API server closes the watch, discovery lists and watches again and keeps following', async () => {
    const watchesBefore = api.watchRequests().length;
    api.dropWatches();
    await expect.poll(() => api.watchRequests().length).toBe(watchesBefore + 1);
    await expect.poll(() => api.openWatches).toBe(1);
    // A pod that comes up after the reconnect (its own slice) is seen through the new watch.
    api.apply(SERVICE, 'ollama-fghij', [{ ...PODS[2], ready: true }]);
    await expect.poll(routable).toEqual(['ollama-0', 'ollama-1', 'ollama-2']);
    expect(await chatPods(3)).toContain('ollama-2');
  });

  it('a pod that is deleted is not routed to any more', async () => {
    const before = chatsOn('ollama-0');
    api.apply(SERVICE, 'ollama-abcde', [{ ...PODS[1], ready: true }]);
    await expect
      .poll(async () => (await backendStates(gateway)).map((b) => b.id).sort())
      .toEqual(['ollama-1', 'ollama-2']);
    const answered = await chatPods(6);
    expect(answered).not.toContain('ollama-0');
    expect(chatsOn('ollama-0')).toBe(before);

    // A whole slice deleted takes its pods with it.
    api.delete('ollama-fghij');
    await expect.poll(routable).toEqual(['ollama-1']);
    expect(new Set(await chatPods(3))).toEqual(new Set(['ollama-1']));
  });
});
