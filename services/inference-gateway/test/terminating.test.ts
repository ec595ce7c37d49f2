import { KubeConfig } from '@kubernetes/client-node';
import { type OllamaSim, startOllamaSim } from '@corral/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesDiscovery, kubernetesEndpointSliceApi } from '../src/domain/kubernetes-discovery.js';
import { FakeKubeApi } from './fake-kube-api.js';
import {
  type TestGateway,
  backendStates,
  chatBody,
  firstChunk,
  postJson,
  startGateway,
  waitUntil,
} from './helpers.js';

const NAMESPACE = 'gpu';
const SERVICE = 'ollama';
const TOKEN = 'service-account-token';
const PODS = [
  { pod: 'ollama-a', ip: '127.0.0.5' },
  { pod: 'ollama-b', ip: '127.0.0.6' },
] as const;

let sims: OllamaSim[];
let api: FakeKubeApi;
let gateway: TestGateway;

beforeAll(async () => {
  // Streams long enough to still be running when their pod starts terminating.
  const slow = { tokensPerSecond: 40, responseTokens: 40, ttftMs: 0, logger: null, models: ['llama3.2'] };
  const first = await startOllamaSim({ ...slow, host: PODS[0].ip, port: 0 });
  const second = await startOllamaSim({ ...slow, host: PODS[1].ip, port: first.port });
  sims = [first, second];
  api = new FakeKubeApi(NAMESPACE, TOKEN, first.port);
  await api.start();
  api.apply(
    SERVICE,
    'ollama-slice',
    PODS.map((pod) => ({ ...pod, ready: true })),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'gateway', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'gateway', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  const discovery = new KubernetesDiscovery(
    await kubernetesEndpointSliceApi(kubeConfig),
    { namespace: NAMESPACE, service: SERVICE, port: first.port, backoffMs: 20 },
    { info: () => {}, warn: () => {} },
  );
  gateway = await startGateway([], { ROUTING_STRATEGY: 'round-robin' }, { discovery });
  await waitUntil(
    async () => (await backendStates(gateway)).filter((b) => b.state === 'healthy').length === 2,
    'both pods healthy',
  );
});

afterAll(async () => {
  await gateway?.close();
  await api?.close();
  await Promise.all((sims ?? []).map((sim) => sim.close()));
});

describe('an endpoint that starts terminating', () => {
  it('finishes its running streams and gets no new request', async () => {
    const stream = await postJson(`${gateway.url}/api/chat`, chatBody('a long answer'));
    expect(stream.status).toBe(200);
    const leaving = stream.headers.get('x-corral-backend');
    const { reader } = await firstChunk(stream);
    const staying = PODS.find((p) => p.pod !== leaving) as (typeof PODS)[number];
    const leavingPod = PODS.find((p) => p.pod === leaving) as (typeof PODS)[number];

    // Kubernetes marks the pod terminating (not ready, still serving) while its stream runs.
    api.apply(SERVICE, 'ollama-slice', [
      { ...leavingPod, ready: true, terminating: true },
      { ...staying, ready: true },
    ]);
    await waitUntil(
      async () => (await backendStates(gateway)).find((b) => b.id === leaving)?.state === 'draining',
      'the pod to drain',
    );
    for (let i = 0; i < 4; i++) {
      const res = await postJson(`${gateway.url}/api/chat`, chatBody(`new ${i}`, { stream: false }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-corral-backend')).toBe(staying.pod);
      await res.arrayBuffer();
    }

    // The running stream ends normally, and then the pod is forgotten.
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const last = JSON.parse(text.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(last).toMatchObject({ done: true });
    expect(last.error).toBeUndefined();
    await waitUntil(
      async () => !(await backendStates(gateway)).some((b) => b.id === leaving),
      'the drained pod to leave',
    );
  });
});
