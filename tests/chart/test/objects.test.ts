import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CHART_DIR,
  ciValuesFiles,
  findOne,
  NAMESPACE,
  RELEASE,
  renderChart,
  runHelm,
  type K8sObject,
  type Loose,
} from './helm.js';
import { podSpecOf, restrictedViolations } from './pods.js';

const ci = (name: string) => join(CHART_DIR, 'ci', `${name}-values.yaml`);
const defaults = renderChart();
const gpuPool = renderChart({ valuesFiles: [ci('gpu-pool-hpa')] });

describe('Ollama GPU pool', () => {
  const ollama = findOne(gpuPool, 'StatefulSet', 'corral-ollama');
  const pod = podSpecOf(ollama)!;
  const server = pod.containers.find((c) => c.name === 'ollama')!;

  it('requests and limits one nvidia.com/gpu per pod on the GPU node pool', () => {
    expect(server.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(server.resources?.requests?.['nvidia.com/gpu']).toBe(1);
    expect(server.resources?.limits?.memory).toBe('40Gi');
    // GKE installs the driver itself: no RuntimeClass, and no nvidia.com/gpu.present label to require.
    expect(pod.runtimeClassName).toBeUndefined();
    expect(JSON.stringify(pod.affinity ?? {})).not.toContain('nvidia.com/gpu.present');
    expect(pod.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('takes OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE and OLLAMA_KEEP_ALIVE from values', () => {
    const env = Object.fromEntries((server.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      OLLAMA_NUM_PARALLEL: '8',
      OLLAMA_MAX_QUEUE: '256',
      OLLAMA_KEEP_ALIVE: '24h',
    });
  });

  it('pulls the listed models in an init container before serving', () => {
    const pull = pod.initContainers?.find((c) => c.name === 'pull-models');
    expect(pull?.env?.find((e) => e.name === 'CORRAL_MODELS')?.value).toBe('llama3.1:8b nomic-embed-text');
    expect(pull?.args?.join('\n')).toContain('ollama pull "$model"');
  });

  it('keeps models on a volume per pod and is found through a headless Service', () => {
    const claims = (ollama.spec as { volumeClaimTemplates: K8sObject[] }).volumeClaimTemplates;
    expect(claims.map((c) => c.metadata.name)).toEqual(['models']);
    expect(findOne(gpuPool, 'Service', 'corral-ollama').spec?.clusterIP).toBe('None');
  });

  it('lets the gateway list and watch EndpointSlices, and points it at the headless Service', () => {
    const role = findOne(gpuPool, 'Role', 'corral-inference-gateway') as K8sObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    expect(role.rules).toEqual([
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    const gateway = podSpecOf(findOne(gpuPool, 'Deployment', 'corral-inference-gateway'))!;
    expect((gateway as { serviceAccountName?: string }).serviceAccountName).toBe('corral-inference-gateway');
    const env = Object.fromEntries((gateway.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      OLLAMA_DISCOVERY: 'kubernetes',
      OLLAMA_K8S_SERVICE: 'corral-ollama',
      OLLAMA_K8S_NAMESPACE: 'corral',
      OLLAMA_K8S_PORT: '11434',
      BACKEND_MAX_PARALLEL: '8',
    });
  });

  it('is scaled by an HPA on generated tokens/sec with slow, careful scale-down', () => {
    const hpa = gpuPool.find(
      (o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec as Loose).scaleTargetRef.kind === 'StatefulSet',
    );
    const spec = hpa?.spec as Loose;
    expect(spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: 'corral-ollama',
    });
    expect(spec.metrics).toHaveLength(1);
    expect(spec.metrics[0].type).toBe('External');
    expect(spec.metrics[0].external.metric.name).toBe('corral_gateway_generated_tokens_per_second');
    expect(spec.metrics[0].external.target).toEqual({ type: 'AverageValue', averageValue: '300' });
    expect(spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(spec.behavior.scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 600 }]);
  });

  it('the prometheus-adapter rule serves that metric from corral_gateway_generated_tokens_total', () => {
    const adapter = parse(readFileSync(join(CHART_DIR, '../../k8s/prometheus-adapter/values.yaml'), 'utf8'));
    const rule = adapter.rules.external.find(
      (r: { name: { as: string } }) => r.name.as === 'corral_gateway_generated_tokens_per_second',
    );
    expect(rule.seriesQuery).toContain('corral_gateway_generated_tokens_total');
    expect(rule.metricsQuery).toContain('rate(');
  });

  it('offers a KEDA ScaledObject instead of the HPA behind a value', () => {
    const keda = renderChart({ valuesFiles: [ci('gpu-pool-keda')] });
    const scaled = findOne(keda, 'ScaledObject', 'corral-ollama').spec as Loose;
    expect(scaled.scaleTargetRef).toMatchObject({ kind: 'StatefulSet', name: 'corral-ollama' });
    expect(scaled.triggers[0].metadata.query).toContain('corral_gateway_generated_tokens_total');
    expect(keda.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });
});

describe('Ingress', () => {
  it('serves TLS and routes the five paths to the right services, for cert-manager and existing secrets', () => {
    for (const [objects, secret] of [
      [defaults, 'corral-tls'],
      [renderChart({ valuesFiles: [ci('tls-ingress')] }), 'corral-tls'],
    ] as const) {
      const ingress = findOne(objects, 'Ingress', 'corral').spec as Loose;
      expect(ingress.tls[0].secretName).toBe(secret);
      expect(ingress.tls[0].hosts).toEqual([ingress.rules[0].host]);
      const routes = Object.fromEntries(
        ingress.rules[0].http.paths.map((p: Loose) => [
          p.path,
          `${p.backend.service.name}:${p.backend.service.port.number}`,
        ]),
      );
      expect(routes).toEqual({
        '/': 'corral-web:3000',
        '/api/auth': 'corral-auth:5001',
        '/.well-known': 'corral-auth:5001',
        '/api': 'corral-chat-api:5002',
        '/v1': 'corral-chat-api:5002',
      });
    }
    expect(
      findOne(defaults, 'Ingress', 'corral').metadata.annotations?.['cert-manager.io/cluster-issuer'],
    ).toBe('letsencrypt-prod');
  });

  it('turns proxy buffering off and allows long reads for streamed replies', () => {
    const annotations = findOne(defaults, 'Ingress', 'corral').metadata.annotations ?? {};
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(600);
  });
});

describe('data stores', () => {
  it('each bundled data store keeps its data on a PVC', () => {
    for (const name of ['corral-postgresql', 'corral-redis', 'corral-ollama']) {
      const set = findOne(defaults, 'StatefulSet', name).spec as Loose;
      expect(set.volumeClaimTemplates?.length, name).toBe(1);
      const mounted = set.template.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name);
      expect(mounted).toContain(set.volumeClaimTemplates[0].metadata.name);
    }
    expect(findOne(defaults, 'PersistentVolumeClaim', 'corral-backup').spec?.accessModes).toEqual([
      'ReadWriteOnce',
    ]);
  });

  it('with an external database and Redis, renders neither and builds the URLs from their Secrets', () => {
    const external = renderChart({ valuesFiles: [ci('production-external-db')] });
    expect(external.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name)).toEqual([
      'corral-ollama',
    ]);
    const auth = podSpecOf(findOne(external, 'Deployment', 'corral-auth'))!.containers[0]!;
    const env = Object.fromEntries((auth.env ?? []).map((e) => [e.name, e]));
    expect(env.CORRAL_DB_URL?.valueFrom).toEqual({ secretKeyRef: { name: 'corral-database', key: 'url' } });
    expect(env.DATABASE_URL?.value).toBe('$(CORRAL_DB_URL)&schema=auth');
    expect(env.REDIS_URL?.valueFrom).toEqual({ secretKeyRef: { name: 'corral-redis', key: 'url' } });
  });
});

describe('pod security', () => {
  it('every pod, the Ollama GPU pods included, meets the restricted profile', () => {
    for (const file of [undefined, ...ciValuesFiles()]) {
      const objects = file ? renderChart({ valuesFiles: [file] }) : defaults;
      for (const obj of objects) {
        const pod = podSpecOf(obj);
        if (!pod) continue;
        expect(restrictedViolations(pod), `${file ?? 'defaults'}: ${obj.kind}/${obj.metadata.name}`).toEqual(
          [],
        );
      }
    }
  });

  it('gives services time to drain: grace period above SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS', () => {
    for (const name of ['corral-auth', 'corral-chat-api', 'corral-inference-gateway', 'corral-web']) {
      const pod = podSpecOf(findOne(defaults, 'Deployment', name)) as Loose;
      const env = Object.fromEntries(
        pod.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]),
      );
      const needed = (Number(env.SHUTDOWN_GRACE_MS) + Number(env.SHUTDOWN_DELAY_MS)) / 1000;
      expect(Number(env.SHUTDOWN_DELAY_MS)).toBe(5000);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(needed);
      expect(pod.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
      expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    }
  });
});

describe('secrets', () => {
  it('nothing secret is in values.yaml by default', () => {
    const values = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    const secretish = /^\s*(password|token|secret|url|apiKey)[ \t]*:[ \t]*(?![ \t]|''|""|$)(.+)$/gim;
    expect([...values.matchAll(secretish)].map((m) => m[0].trim())).toEqual([]);
  });

  it('generates secrets once and keeps them: lookup-backed, never rendered into pod specs', () => {
    const template = readFileSync(join(CHART_DIR, 'templates', '_helpers.tpl'), 'utf8');
    expect(template).toMatch(/lookup "v1" "Secret"/);
    const secrets = defaults.filter((o) => o.kind === 'Secret');
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual([
      'corral-bootstrap-admin',
      'corral-postgresql',
      'corral-redis',
      'corral-secrets',
    ]);
    for (const secret of secrets) {
      expect(secret.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    }
    const adminPassword = Buffer.from(
      findOne(defaults, 'Secret', 'corral-bootstrap-admin').data!.password!,
      'base64',
    );
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
    const everything = JSON.stringify(defaults.filter((o) => o.kind !== 'Secret'));
    expect(everything).not.toContain(adminPassword.toString());
  });
});

describe('jobs and hooks', () => {
  it('migrates before upgrades and seeds the bootstrap admin after install', () => {
    const external = renderChart({ valuesFiles: [ci('production-external-db')] });
    const migrate = external.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('corral-migrate'))!;
    expect(migrate.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const containers = podSpecOf(migrate)!.containers.map((c) => `${c.name}: ${c.command?.join(' ')}`);
    expect(containers).toEqual([
      'migrate-auth: node node_modules/@corral/db-migrate/dist/cli.js deploy --schema auth --dir prisma/migrations',
      'migrate-chat-api: node node_modules/@corral/db-migrate/dist/cli.js deploy --schema chat --dir prisma/migrations',
    ]);
    const seed = findOne(defaults, 'Job', 'corral-seed-admin');
    expect(seed.metadata.annotations?.['helm.sh/hook']).toBe('post-install');
    expect(podSpecOf(seed)!.containers[0]!.command).toEqual(['node', 'dist/cli.js', 'seed-admin']);
  });

  it('the helm test pod checks every service /readyz', () => {
    const test = findOne(defaults, 'Pod', 'corral-test-readyz');
    const targets = podSpecOf(test)!
      .containers[0]!.env!.find((e) => e.name === 'TARGETS')!
      .value!.split(/\s+/);
    expect(targets.sort()).toEqual([
      'http://corral-auth:5001/readyz',
      'http://corral-chat-api:5002/readyz',
      'http://corral-inference-gateway:5003/readyz',
      'http://corral-web:3000/readyz',
    ]);
  });

  it('only the gateway reaches Ollama; only the services reach PostgreSQL and Redis', () => {
    const allowed = (name: string) =>
      (
        findOne(defaults, 'NetworkPolicy', name).spec as Loose
      ).ingress[0].from[0].podSelector.matchExpressions.find(
        (e: { key: string }) => e.key === 'app.kubernetes.io/component',
      ).values;
    expect(allowed('corral-ollama')).toEqual(['inference-gateway']);
    expect(allowed('corral-postgresql')).toEqual([
      'auth',
      'chat-api',
      'migrate',
      'seed-admin',
      'backup',
      'doctor',
    ]);
    expect(allowed('corral-redis')).toEqual(['auth', 'chat-api', 'inference-gateway', 'doctor']);
  });
});

describe('helm test runs `corral doctor --smoke` from the CLI image', () => {
  const doctorOf = (objects: K8sObject[]) => findOne(objects, 'Pod', 'corral-test-doctor');
  const envOf = (objects: K8sObject[]) =>
    Object.fromEntries(
      (podSpecOf(doctorOf(objects))!.containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
    );

  it("after the readyz pod, with the in-release URLs, the database, Redis and the services' secrets", () => {
    const pod = doctorOf(defaults);
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    expect(Number(pod.metadata.annotations?.['helm.sh/hook-weight'])).toBeGreaterThan(
      Number(
        findOne(defaults, 'Pod', 'corral-test-readyz').metadata.annotations?.['helm.sh/hook-weight'] ?? 0,
      ),
    );
    const container = podSpecOf(pod)!.containers[0]!;
    expect(container.image).toBe('ghcr.io/corral/corral/cli:0.1.0');
    expect(container.command).toEqual(['corral']);
    // Replicas as the connection budget counts them: 2 each, plus the rolling update's surge.
    expect(container.args).toEqual(['doctor', '--smoke', '--replicas', 'auth=3,chat-api=3']);
    expect(envOf(defaults)).toMatchObject({
      WEB_URL: 'http://corral-web:3000',
      AUTH_URL: 'http://corral-auth:5001',
      CHAT_API_URL: 'http://corral-chat-api:5002',
      GATEWAY_URL: 'http://corral-inference-gateway:5003',
      DATABASE_URL: '$(BACKUP_DATABASE_URL)',
      REDIS_URL: 'redis://:$(CORRAL_REDIS_PASSWORD)@corral-redis:6379/0',
      GATEWAY_SERVICE_TOKEN_FILE: '/var/run/secrets/corral/gateway-service-token',
      SIGNING_KEY_SECRET_FILE: '/var/run/secrets/corral/signing-key-secret',
      BOOTSTRAP_ADMIN_EMAIL: 'admin@corral.local',
      BOOTSTRAP_ADMIN_PASSWORD_FILE: '/var/run/secrets/bootstrap-admin/password',
      AUTH_DATABASE_POOL_MAX: '5',
      CHAT_DATABASE_POOL_MAX: '8',
    });
    expect(envOf(defaults).PUBLIC_URL).toBeUndefined();
    const volumes = podSpecOf(pod)!.volumes ?? [];
    expect(volumes.find((v) => v.name === 'bootstrap-admin')?.secret?.secretName).toBe(
      'corral-bootstrap-admin',
    );
    expect(restrictedViolations(podSpecOf(pod)!)).toEqual([]);
  });

  it('the CLI image is one value (cli.image), shared with the backup CronJobs', () => {
    const objects = renderChart({
      set: [
        'cli.image.repository=registry.example/ops/corral-cli',
        'cli.image.tag=1.2.3',
        'backup.verify.enabled=true',
        'tests.doctor.publicUrl=https://chat.example.com',
      ],
    });
    const images = [
      podSpecOf(doctorOf(objects))!.containers[0]!.image,
      podSpecOf(findOne(objects, 'CronJob', 'corral-backup'))!.containers[0]!.image,
      podSpecOf(findOne(objects, 'CronJob', 'corral-backup-verify'))!.containers[0]!.image,
    ];
    expect(images).toEqual(Array(3).fill('registry.example/ops/corral-cli:1.2.3'));
    expect(envOf(objects).PUBLIC_URL).toBe('https://chat.example.com');
  });

  it('no --smoke without a bootstrap admin to sign in as; none at all when turned off', () => {
    const noAdmin = renderChart({ set: ['auth.bootstrapAdmin.enabled=false'] });
    expect(podSpecOf(doctorOf(noAdmin))!.containers[0]!.args).not.toContain('--smoke');
    expect(envOf(noAdmin).BOOTSTRAP_ADMIN_PASSWORD_FILE).toBeUndefined();
    const off = renderChart({ set: ['tests.doctor.enabled=false'] });
    expect(off.some((o) => o.metadata.name === 'corral-test-doctor')).toBe(false);
  });

  describe('with password sign-in off (auth.passwordLogin: false), where auth refuses the password', () => {
    const sso = ci('sso');
    const notesOf = (set: string[]) => {
      const args = ['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--dry-run=client', '-f', sso];
      for (const pair of set) args.push('--set', pair);
      const result = runHelm(args);
      if (result.status !== 0) throw new Error(result.stderr);
      return result.stdout.slice(result.stdout.indexOf('NOTES:'));
    };

    it('runs the doctor without --smoke, and NOTES say how to give it an API key', () => {
      const objects = renderChart({ valuesFiles: [sso] });
      const spec = podSpecOf(doctorOf(objects))!;
      expect(spec.containers[0]!.args).toEqual(['doctor', '--replicas', 'auth=3,chat-api=3']);
      expect(envOf(objects).CORRAL_ADMIN_API_KEY_FILE).toBeUndefined();
      expect(spec.volumes?.some((v) => v.name === 'admin-api-key')).toBe(false);
      const text = notesOf([]);
      expect(text).toContain('runs `corral doctor` from the CLI image');
      expect(text).toContain('--scopes keys,inference');
      expect(text).toContain('--set tests.doctor.adminApiKey.existingSecret=corral-doctor-api-key');
    });

    it('with tests.doctor.adminApiKey runs --smoke with the mounted key as CORRAL_ADMIN_API_KEY_FILE', () => {
      const set = [
        'tests.doctor.adminApiKey.existingSecret=ops-doctor-key',
        'tests.doctor.adminApiKey.key=token',
      ];
      const objects = renderChart({ valuesFiles: [sso], set });
      const spec = podSpecOf(doctorOf(objects))!;
      expect(spec.containers[0]!.args).toEqual(['doctor', '--smoke', '--replicas', 'auth=3,chat-api=3']);
      expect(envOf(objects).CORRAL_ADMIN_API_KEY_FILE).toBe('/var/run/secrets/doctor-admin-key/api-key');
      expect(spec.volumes?.find((v) => v.name === 'admin-api-key')?.secret).toEqual({
        secretName: 'ops-doctor-key',
        items: [{ key: 'token', path: 'api-key' }],
      });
      expect(spec.containers[0]!.volumeMounts).toContainEqual({
        name: 'admin-api-key',
        mountPath: '/var/run/secrets/doctor-admin-key',
        readOnly: true,
      });
      expect(restrictedViolations(spec)).toEqual([]);
      const text = notesOf(set);
      expect(text).toContain('runs `corral doctor --smoke` from the CLI image');
      expect(text).not.toContain('--scopes keys,inference');
      // The key works without a bootstrap admin too, and smoke: false still turns the smoke off.
      const noAdmin = renderChart({ set: ['auth.bootstrapAdmin.enabled=false', ...set] });
      expect(podSpecOf(doctorOf(noAdmin))!.containers[0]!.args).toContain('--smoke');
      const off = renderChart({ valuesFiles: [sso], set: [...set, 'tests.doctor.smoke=false'] });
      expect(podSpecOf(doctorOf(off))!.containers[0]!.args).not.toContain('--smoke');
    });

    it('refuses a Secret key name Kubernetes would not take', () => {
      const result = runHelm([
        'template',
        RELEASE,
        CHART_DIR,
        '--set',
        'tests.doctor.adminApiKey.existingSecret=ops-doctor-key',
        '--set',
        'tests.doctor.adminApiKey.key=api key',
      ]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('/tests/doctor/adminApiKey/key');
    });
  });

  it('reads the backup key when backups are encrypted (the doctor checks its strength)', () => {
    const objects = renderChart({ set: ['backup.encryption.existingSecret=ops-backup-key'] });
    expect(envOf(objects).BACKUP_ENCRYPTION_KEY_FILE).toBe('/var/run/secrets/corral-backup/key');
    const key = podSpecOf(doctorOf(objects))!.volumes?.find((v) => v.name === 'backup-key');
    expect(key?.secret?.secretName).toBe('ops-backup-key');
  });
});

describe('Prometheus metrics stay off the Ingress', () => {
  const monitored = renderChart({ set: ['metrics.serviceMonitor.enabled=true'] });
  const services = ['auth', 'chat-api', 'inference-gateway', 'web'];

  it('every service serves /metrics on its own port (METRICS_PORT), which the Service names "metrics"', () => {
    for (const component of services) {
      const deployment = findOne(monitored, 'Deployment', `corral-${component}`);
      const container = podSpecOf(deployment)!.containers[0]!;
      expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
      expect(container.env).toContainEqual({ name: 'METRICS_PORT', value: '9464' });
      const service = findOne(monitored, 'Service', `corral-${component}`).spec as Loose;
      expect(service.ports).toContainEqual({
        name: 'metrics',
        port: 9464,
        targetPort: 'metrics',
        protocol: 'TCP',
      });
    }
    const endpoints = (findOne(monitored, 'ServiceMonitor', 'corral').spec as Loose).endpoints;
    expect(endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it('the Ingress routes only to http ports, and Prometheus may reach the metrics port and nothing else', () => {
    const paths = (findOne(monitored, 'Ingress', 'corral').spec as Loose).rules[0].http.paths as Loose[];
    expect(paths.map((p) => p.backend.service.port.number).sort()).toEqual([3000, 5001, 5001, 5002, 5002]);
    for (const name of ['corral-public', 'corral-inference-gateway']) {
      const rules = (findOne(monitored, 'NetworkPolicy', name).spec as Loose).ingress as Loose[];
      const prometheus = rules.filter((rule) =>
        (rule.from as Loose[]).some(
          (peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring',
        ),
      );
      expect(prometheus.map((rule) => rule.ports)).toEqual([[{ port: 9464, protocol: 'TCP' }]]);
      const others = rules.filter((rule) => !prometheus.includes(rule));
      expect(others.flatMap((rule) => rule.ports as Loose[]).map((p) => p.port)).not.toContain(9464);
    }
  });
});
