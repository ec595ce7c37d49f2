// The upgrade rehearsal's cluster pieces, without images: a Service whose endpoints change under an
// open connection, Helm's lookup of existing Secrets on upgrade, the chart's rolling-update numbers.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceProxy, rollingUpdate, upgradedStore } from '../src/cluster.js';
import { renderChart, type K8sObject } from '../src/manifests.js';
import { REHEARSAL_VALUES } from '../src/setup.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A pod: answers every line with its name. */
async function pod(name: string): Promise<number> {
  const server: Server = createServer((socket) => socket.on('data', () => socket.write(`${name}\n`)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function ask(socket: Socket): Promise<string> {
  socket.write('who?\n');
  const [data] = (await once(socket, 'data')) as [Buffer];
  return data.toString().trim();
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  closers.push(() => void socket.destroy());
  return socket;
}

describe('ServiceProxy', () => {
  it('sends new connections to the new endpoint while an open one stays on the old pod', async () => {
    const [oldPod, newPod] = [await pod('old'), await pod('new')];
    const proxy = new ServiceProxy('web', 0);
    await proxy.listen();
    closers.push(() => proxy.close());
    const port = (proxy as unknown as { server: Server }).server.address() as AddressInfo;
    proxy.setEndpoints([oldPod]);
    const before = await open(port.port);
    expect(await ask(before)).toBe('old');
    proxy.setEndpoints([newPod]);
    expect(await ask(await open(port.port))).toBe('new');
    expect(await ask(before)).toBe('old');
  });

  it('refuses connections while the Service has no ready endpoint', async () => {
    const proxy = new ServiceProxy('web', 0);
    await proxy.listen();
    closers.push(() => proxy.close());
    const { port } = (proxy as unknown as { server: Server }).server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'close');
    expect(proxy.refused).toBe(1);
  });
});

describe('upgradedStore', () => {
  const secret = (name: string, data: Record<string, string>): K8sObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData: data,
  });

  it("keeps every value the installed release's Secrets hold and adds the new keys", () => {
    const installed = new Map([['Secret/app', { token: 'kept', password: 'kept-too' }]]);
    const store = upgradedStore(installed, [
      secret('app', { token: 'regenerated', password: 'regenerated', added: 'new' }),
      secret('other', { key: 'fresh' }),
    ]);
    expect(store.get('Secret/app')).toEqual({ token: 'kept', password: 'kept-too', added: 'new' });
    expect(store.get('Secret/other')).toEqual({ key: 'fresh' });
  });
});

describe('rollingUpdate', () => {
  it("resolves the chart's strategy: one surge pod, none unavailable", () => {
    const deployments = renderChart({ valuesFiles: [REHEARSAL_VALUES] }).filter(
      (o) => o.kind === 'Deployment',
    );
    expect(deployments.length).toBe(4);
    for (const d of deployments) expect(rollingUpdate(d)).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('rounds a percentage surge up and unavailability down, as Kubernetes does', () => {
    const d = (replicas: number, maxSurge: string, maxUnavailable: string): K8sObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas, strategy: { rollingUpdate: { maxSurge, maxUnavailable } } },
    });
    expect(rollingUpdate(d(3, '25%', '25%'))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(rollingUpdate(d(8, '25%', '50%'))).toEqual({ maxSurge: 2, maxUnavailable: 4 });
    expect(rollingUpdate(d(1, '0%', '0%'))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });
});
