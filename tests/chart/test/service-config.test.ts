import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciValuesFiles, findOne, renderChart, type K8sObject, type Loose } from './helm.js';
import { podSpecOf } from './pods.js';
import { SERVICE_NAMES, loadServiceConfig } from './service-env.js';

const scenarios: [string, K8sObject[]][] = [
  ['default values', renderChart()],
  ...ciValuesFiles().map((file): [string, K8sObject[]] => [
    basename(file),
    renderChart({ valuesFiles: [file] }),
  ]),
];

describe("each service's own config loader accepts the env the chart gives it (NODE_ENV=production)", () => {
  describe.each(scenarios)('%s', (_label, objects) => {
    it.each(SERVICE_NAMES)('%s starts: no missing, malformed, weak or unknown variable', (service) => {
      expect(loadServiceConfig(objects, service).problems).toEqual([]);
    });

    it('services that talk to each other agree: URLs, JWT issuer/audience, shared tokens', () => {
      const [auth, chat, gateway] = (['auth', 'chat-api', 'inference-gateway'] as const).map(
        (service) => loadServiceConfig(objects, service).config ?? {},
      );
      expect(chat?.AUTH_URL).toBe('http://corral-auth:5001');
      expect(gateway?.AUTH_URL).toBe('http://corral-auth:5001');
      expect(chat?.GATEWAY_URL).toBe('http://corral-inference-gateway:5003');
      for (const config of [chat, gateway]) {
        expect(config?.JWT_ISSUER).toBe(auth?.JWT_ISSUER);
        expect(config?.JWT_AUDIENCE).toBe(auth?.JWT_AUDIENCE);
      }
      // The same Secret key behind both sides (dummy values are derived from secret name + key).
      expect(chat?.INTERNAL_SERVICE_TOKEN).toBe(auth?.INTERNAL_SERVICE_TOKEN);
      // The gateway polls auth's revocation feed with it.
      expect(gateway?.INTERNAL_SERVICE_TOKEN).toBe(auth?.INTERNAL_SERVICE_TOKEN);
      expect(chat?.GATEWAY_SERVICE_TOKEN).toBeDefined();
      expect(chat?.GATEWAY_SERVICE_TOKEN).toBe(gateway?.GATEWAY_SERVICE_TOKEN);
    });
  });
});

describe('the config check catches what would stop a service or be silently ignored', () => {
  const withEnv = (objects: K8sObject[], service: string, edit: (env: Loose[]) => Loose[]) =>
    objects.map((obj) => {
      if (obj.kind !== 'Deployment' || obj.metadata.name !== `corral-${service}`) return obj;
      const copy = structuredClone(obj);
      const container = podSpecOf(copy)!.containers[0]!;
      container.env = edit(container.env ?? []);
      return copy;
    });
  const defaults = scenarios[0]![1];

  it('a renamed variable (RETENTION_DAYS for CHAT_RETENTION_DAYS)', () => {
    const renamed = withEnv(defaults, 'chat-api', (env) =>
      env.map((e) => (e.name === 'CHAT_RETENTION_DAYS' ? { ...e, name: 'RETENTION_DAYS' } : e)),
    );
    expect(loadServiceConfig(renamed, 'chat-api').problems).toEqual([
      'RETENTION_DAYS: chat-api reads no such variable',
    ]);
  });

  it('a missing production secret (the gateway without GATEWAY_SERVICE_TOKEN_FILE)', () => {
    const missing = withEnv(defaults, 'inference-gateway', (env) =>
      env.filter((e) => e.name !== 'GATEWAY_SERVICE_TOKEN_FILE'),
    );
    expect(loadServiceConfig(missing, 'inference-gateway').problems).toEqual([
      'GATEWAY_SERVICE_TOKEN: required in production, not set',
    ]);
    const noSigningKey = withEnv(defaults, 'auth', (env) =>
      env.filter((e) => e.name !== 'SIGNING_KEY_SECRET_FILE'),
    );
    expect(loadServiceConfig(noSigningKey, 'auth').problems.join('\n')).toContain('SIGNING_KEY_SECRET');
  });

  it('a value in the wrong format (a boolean as "yes please", a duration in seconds)', () => {
    const wrong = withEnv(defaults, 'auth', (env) =>
      env.map((e) => (e.name === 'COOKIE_SECURE' ? { ...e, value: 'yes please' } : e)),
    );
    expect(loadServiceConfig(wrong, 'auth').problems.join('\n')).toContain('COOKIE_SECURE');
    const seconds = withEnv(defaults, 'inference-gateway', (env) =>
      env.map((e) => (e.name === 'QUEUE_TIMEOUT_MS' ? { ...e, value: '30s' } : e)),
    );
    expect(loadServiceConfig(seconds, 'inference-gateway').problems.join('\n')).toContain('QUEUE_TIMEOUT_MS');
  });

  it('a _FILE path outside the mounted Secret keys', () => {
    const unmounted = withEnv(defaults, 'inference-gateway', (env) =>
      env.map((e) =>
        e.name === 'GATEWAY_SERVICE_TOKEN_FILE'
          ? { ...e, value: '/var/run/secrets/corral/signing-key-secret' }
          : e,
      ),
    );
    expect(loadServiceConfig(unmounted, 'inference-gateway').problems.join('\n')).toContain(
      'does not project signing-key-secret',
    );
  });
});

describe('gateway service token', () => {
  const defaults = scenarios[0]![1];

  it('is generated once into the app Secret and mounted only where it is used', () => {
    const secret = findOne(defaults, 'Secret', 'corral-secrets');
    expect(Buffer.from(secret.data!['gateway-service-token']!, 'base64').length).toBeGreaterThanOrEqual(32);
    const projected = (name: string) =>
      ((podSpecOf(findOne(defaults, 'Deployment', name))!.volumes ?? []) as Loose[])
        .find((v) => v.name === 'secrets')
        ?.secret.items.map((item: { key: string }) => item.key);
    expect(projected('corral-inference-gateway')).toEqual([
      'gateway-service-token',
      'internal-service-token',
    ]);
    expect(projected('corral-chat-api')).toEqual(['internal-service-token', 'gateway-service-token']);
    expect(projected('corral-auth')).toEqual(['signing-key-secret', 'internal-service-token']);
    expect(projected('corral-web')).toBeUndefined();
  });

  it('network policies let chat-api reach the gateway and the gateway reach auth (JWKS)', () => {
    const from = (name: string): string[] =>
      (
        findOne(defaults, 'NetworkPolicy', name).spec as Loose
      ).ingress[0].from[0].podSelector.matchExpressions.find(
        (e: { key: string }) => e.key === 'app.kubernetes.io/component',
      ).values;
    expect(from('corral-inference-gateway')).toContain('chat-api');
    expect(from('corral-public')).toContain('inference-gateway');
  });
});
