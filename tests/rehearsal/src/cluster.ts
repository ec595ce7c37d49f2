// What the upgrade rehearsal needs of a cluster: Services whose endpoints change under open
// connections (kube-proxy), Deployments rolled as the chart's strategy says (a surge pod started and
// ready before the old one is taken out of the Service and sent SIGTERM with its grace period), and
// Helm's `lookup` of the Secrets a release already has.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { K8sObject, SecretStore } from './manifests.js';
import { secretStore } from './manifests.js';

/**
 * A Service as kube-proxy makes it: a port that spreads new connections over the ready endpoints.
 * Changing the endpoints leaves open connections where they are (conntrack keeps them), so a pod
 * taken out of the Service still finishes what it serves until it exits.
 */
export class ServiceProxy {
  private endpoints: number[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  /** Connections refused because the Service had no ready endpoint (what a client sees as a reset). */
  refused = 0;

  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  listen(): Promise<void> {
    this.server = createServer((client) => this.forward(client));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  setEndpoints(ports: number[]): void {
    this.endpoints = [...ports];
  }

  get ready(): readonly number[] {
    return this.endpoints;
  }

  private forward(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    if (this.endpoints.length === 0) {
      this.refused += 1;
      client.destroy();
      return;
    }
    const port = this.endpoints[this.next++ % this.endpoints.length]!;
    const upstream = connect(port, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * The Secrets `helm upgrade` would apply: the chart generates a value only when `lookup` finds none,
 * so every key the installed release's Secret already holds keeps its value; new keys are the new
 * render's. ConfigMaps are the new render's as they are.
 */
export function upgradedStore(installed: SecretStore, upgraded: K8sObject[]): SecretStore {
  const store = secretStore(upgraded);
  for (const [ref, values] of store) {
    const before = installed.get(ref);
    if (ref.startsWith('Secret/') && before) store.set(ref, { ...values, ...before });
  }
  return store;
}

/** A Deployment's rolling-update parameters, resolved for its replica count as Kubernetes does. */
export function rollingUpdate(deployment: K8sObject): { maxSurge: number; maxUnavailable: number } {
  const spec = deployment.spec as {
    replicas?: number;
    strategy?: { rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  };
  const replicas = spec.replicas ?? 1;
  const resolve = (value: number | string | undefined, fallback: string, round: (n: number) => number) => {
    const v = value ?? fallback;
    return typeof v === 'number' ? v : round((Number(v.replace('%', '')) / 100) * replicas);
  };
  const ru = spec.strategy?.rollingUpdate;
  // Kubernetes rounds maxSurge up and maxUnavailable down; both 0 is not allowed (surge becomes 1).
  const maxSurge = resolve(ru?.maxSurge, '25%', Math.ceil);
  const maxUnavailable = resolve(ru?.maxUnavailable, '25%', Math.floor);
  return { maxSurge: maxSurge === 0 && maxUnavailable === 0 ? 1 : maxSurge, maxUnavailable };
}
