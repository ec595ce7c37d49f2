// The chart defects found by reading it as an operator (issue 16), each pinned by what renders.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  REPO_ROOT,
  findOne,
  parseManifests,
  renderChart,
  runHelm,
  type K8sObject,
  type Loose,
} from './helm.js';
import { podSpecOf, restrictedViolations } from './pods.js';

const envOf = (obj: K8sObject, container?: string): Record<string, Loose> => {
  const pod = podSpecOf(obj)!;
  const c = container
    ? [...(pod.initContainers ?? []), ...pod.containers].find((x) => x.name === container)!
    : pod.containers[0]!;
  return Object.fromEntries(((c as Loose).env ?? []).map((e: Loose) => [e.name, e.value ?? e.valueFrom]));
};
const fails = (args: string[]) => runHelm(['template', 'corral', CHART_DIR, ...args]);

describe('bootstrap admin from an existing Secret', () => {
  const objects = renderChart({ set: ['auth.bootstrapAdmin.existingSecret=my-admin'] });
  const job = findOne(objects, 'Job', 'corral-seed-admin');

  it('reads only `password` from it; the e-mail is a value', () => {
    const refs = JSON.stringify(podSpecOf(job));
    expect(refs).not.toMatch(/"key":"email"/);
    expect(envOf(job).BOOTSTRAP_ADMIN_EMAIL).toBe('admin@corral.local');
    expect(envOf(job).BOOTSTRAP_ADMIN_PASSWORD_FILE).toBe('/var/run/secrets/bootstrap-admin/password');
  });
});

describe('the default model', () => {
  it('is the first model the Ollama pods pull', () => {
    const chat = findOne(renderChart(), 'Deployment', 'corral-chat-api');
    expect(envOf(chat).DEFAULT_MODEL).toBe('llama3.2:3b');
  });
  it('can be set, and follows ollama.models', () => {
    const set = renderChart({ set: ['chatApi.defaultModel=qwen3:8b'] });
    expect(envOf(findOne(set, 'Deployment', 'corral-chat-api')).DEFAULT_MODEL).toBe('qwen3:8b');
    const first = renderChart({ set: ['ollama.models={gemma3:4b,llama3.2:3b}'] });
    expect(envOf(findOne(first, 'Deployment', 'corral-chat-api')).DEFAULT_MODEL).toBe('gemma3:4b');
  });
});

describe('database connections', () => {
  it('sets each pool size, and keeps the password out of DATABASE_URL (PGPASSWORD: any character works)', () => {
    const objects = renderChart();
    const chat = envOf(findOne(objects, 'Deployment', 'corral-chat-api'));
    expect(chat.DATABASE_POOL_MAX).toBe('8');
    expect(envOf(findOne(objects, 'Deployment', 'corral-auth')).DATABASE_POOL_MAX).toBe('5');
    expect(chat.DATABASE_URL).toBe('postgresql://corral@corral-postgresql:5432/corral?schema=chat');
    expect(chat.PGPASSWORD).toEqual({ secretKeyRef: { name: 'corral-postgresql', key: 'password' } });
  });
  it('refuses pools x replicas above max_connections, naming the sum', () => {
    const result = fails([
      '--set',
      'chatApi.autoscaling.enabled=true',
      '--set',
      'chatApi.autoscaling.maxReplicas=20',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /connection budget: 3 auth pods x 5 .* 25 chat-api pods x 8 .* = 225, above postgresql.maxConnections \(100\)/,
    );
    expect(
      fails([
        '--set',
        'chatApi.autoscaling.enabled=true',
        '--set',
        'chatApi.autoscaling.maxReplicas=20',
        '--set',
        'postgresql.maxConnections=300',
      ]).status,
    ).toBe(0);
  });
});

describe('Ollama pods', () => {
  const objects = renderChart();
  const sts = findOne(objects, 'StatefulSet', 'corral-ollama');
  const pod = podSpecOf(sts)!;
  const server = pod.containers[0] as Loose;

  it('meet the restricted Pod Security Standard', () => {
    expect(restrictedViolations(pod)).toEqual([]);
    expect(server.securityContext.readOnlyRootFilesystem).toBe(true);
  });
  it('drain before SIGTERM: a preStop hook waits for open connections within the grace period', () => {
    const script = server.lifecycle.preStop.exec.command.join(' ');
    expect(script).toContain(':2CAA$'); // port 11434
    expect(script).toContain('deadline=$(( $(date +%s) + 105 ))'); // 120 s grace - 5 s delay - 10 s
  });
  it('pre-pull skips models already present and only warns when a pull fails', () => {
    const args = (pod.initContainers![0] as Loose).args[0] as string;
    expect(args).toContain('if ollama show "$model"');
    expect(args).toContain('WARNING: could not pull');
    expect(args).not.toMatch(/^\s*ollama pull "\$model"\s*$/m);
  });
  it('take extra env and no longer require the nvidia.com/gpu.present label by default', () => {
    const extra = renderChart({
      set: ['ollama.extraEnv[0].name=OLLAMA_KV_CACHE_TYPE', 'ollama.extraEnv[0].value=q8_0'],
    });
    expect(envOf(findOne(extra, 'StatefulSet', 'corral-ollama')).OLLAMA_KV_CACHE_TYPE).toBe('q8_0');
    expect(JSON.stringify(pod.affinity)).not.toContain('gpu.present');
    const required = renderChart({ set: ['ollama.gpu.requireNodeLabel=true'] });
    expect(JSON.stringify(podSpecOf(findOne(required, 'StatefulSet', 'corral-ollama'))!.affinity)).toContain(
      'nvidia.com/gpu.present',
    );
  });
});

describe('egress NetworkPolicies', () => {
  const objects = renderChart();
  const egress = objects.filter(
    (o) => o.kind === 'NetworkPolicy' && (o.spec as Loose).policyTypes.includes('Egress'),
  );
  it('allow DNS and in-release traffic to all, the API server to the gateway only, the registry to Ollama only', () => {
    expect(egress.map((o) => o.metadata.name).sort()).toEqual([
      'corral-egress',
      'corral-inference-gateway-egress-apiserver',
      'corral-ollama-egress-registry',
    ]);
    const registry = findOne(objects, 'NetworkPolicy', 'corral-ollama-egress-registry').spec as Loose;
    expect(registry.podSelector.matchLabels['app.kubernetes.io/component']).toBe('ollama');
    expect(registry.egress[0].to[0].ipBlock.except).toContain('169.254.169.254/32');
    const api = findOne(objects, 'NetworkPolicy', 'corral-inference-gateway-egress-apiserver').spec as Loose;
    expect(api.podSelector.matchLabels['app.kubernetes.io/component']).toBe('inference-gateway');
  });
  it('can be turned off', () => {
    const off = renderChart({ set: ['networkPolicy.egress.enabled=false'] });
    expect(
      off.filter((o) => o.kind === 'NetworkPolicy' && (o.spec as Loose).policyTypes.includes('Egress')),
    ).toEqual([]);
  });
});

describe('autoscaling and monitoring', () => {
  it('adds the Pods metric only where the custom metrics API is served', () => {
    const args = ['--set', 'chatApi.autoscaling.enabled=true'];
    const hpa = (extra: string[]) =>
      findOne(
        parseManifests(runHelm(['template', 'corral', CHART_DIR, ...args, ...extra]).stdout),
        'HorizontalPodAutoscaler',
        'corral-chat-api',
      );
    expect(((hpa([]).spec as Loose).metrics as Loose[]).map((m) => m.type)).toEqual(['Resource']);
    expect(
      ((hpa(['--api-versions', 'custom.metrics.k8s.io/v1beta1']).spec as Loose).metrics as Loose[]).map(
        (m) => m.type,
      ),
    ).toEqual(['Resource', 'Pods']);
  });
  it('the GPU-pool and KEDA scenarios label their ServiceMonitor for kube-prometheus-stack', () => {
    for (const file of ['gpu-pool-hpa-values.yaml', 'gpu-pool-keda-values.yaml']) {
      const sm = renderChart({ valuesFiles: [join(CHART_DIR, 'ci', file)] }).find(
        (o) => o.kind === 'ServiceMonitor',
      );
      expect(sm?.metadata.labels?.release, file).toBe('kube-prometheus-stack');
    }
  });
  it('the dashboard queries only metrics the services define', () => {
    const sources = [
      ...readdirSync(join(REPO_ROOT, 'services')).map((s) => join(REPO_ROOT, 'services', s, 'src')),
      join(REPO_ROOT, 'packages', 'service-kit', 'src'),
    ];
    const code = sources
      .flatMap((dir) =>
        readdirSync(dir, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.ts'))
          .map((f) => readFileSync(join(dir, f), 'utf8')),
      )
      .join('\n');
    const dashboard = readdirSync(join(CHART_DIR, 'dashboards'))
      .map((f) => readFileSync(join(CHART_DIR, 'dashboards', f), 'utf8'))
      .join('\n');
    const names = new Set(
      [...dashboard.matchAll(/corral_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
    );
    // The gateway names its metrics `${PREFIX}…` with PREFIX = 'corral_gateway_'.
    const defined = (name: string) =>
      code.includes(`'${name}'`) ||
      (name.startsWith('corral_gateway_') &&
        code.includes(`\`\${PREFIX}${name.slice('corral_gateway_'.length)}\``));
    expect([...names].filter((name) => !defined(name))).toEqual([]);
  });
  it('alerts match the real Service names of a long release, and a retried backup that succeeded does not fire', () => {
    const release = 'a-long-release-name-that-an-operator-might-pick-corral'.slice(0, 53); // Helm's limit
    const objects = parseManifests(
      runHelm(['template', release, CHART_DIR, '--set', 'metrics.prometheusRule.enabled=true']).stdout,
    );
    const rules = JSON.stringify(objects.find((o) => o.kind === 'PrometheusRule')!.spec);
    for (const svc of objects.filter(
      (o) =>
        o.kind === 'Service' &&
        ['auth', 'chat-api', 'web'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''),
    )) {
      expect(rules).toContain(svc.metadata.name);
    }
    expect(rules).toContain('unless on (namespace, job_name) (kube_job_status_succeeded');
  });
});

describe('values.schema.json rejects values that used to pass', () => {
  it.each([
    ['a host with spaces', 'ingress.host=chat example.com', /ingress\/host/],
    ['a non-cron backup schedule', 'backup.schedule=every day', /backup\/schedule/],
    ['an e-mail that is not one', 'auth.bootstrapAdmin.email=admin', /bootstrapAdmin\/email/],
    [
      'min replicas above max',
      'chatApi.autoscaling.minReplicas=9',
      /minReplicas \(9\) is above chatApi.autoscaling.maxReplicas \(6\)/,
    ],
  ])('%s', (_what, pair, message) => {
    const result = fails([pair.includes('Replicas') ? '--set' : '--set-string', pair]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
  it('still accepts cron schedules and macros', () => {
    expect(fails(['--set-string', 'backup.schedule=*/15 2-4 * * MON-FRI']).status).toBe(0);
    expect(fails(['--set-string', 'backup.schedule=@daily']).status).toBe(0);
  });
});

describe('what the anchor charts offer', () => {
  const extraObjects = join(mkdtempSync(join(tmpdir(), 'corral-chart-')), 'extra.yaml');
  writeFileSync(
    extraObjects,
    "extraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: '{{ .Release.Name }}-extra'\n",
  );
  const objects = renderChart({
    valuesFiles: [extraObjects],
    set: [
      'podLabels.team=ml',
      'web.podLabels.tier=front',
      'priorityClassName=corral-high',
      'extraEnvFrom[0].configMapRef.name=corral-extra',
      'chatApi.extraVolumes[0].name=certs',
      'chatApi.extraVolumes[0].configMap.name=corporate-ca',
      'chatApi.extraVolumeMounts[0].name=certs',
      'chatApi.extraVolumeMounts[0].mountPath=/etc/corporate-ca',
      'httpRoute.enabled=true',
      'httpRoute.parentRefs[0].name=public',
    ],
  });
  it('pod labels, priority class, envFrom, extra volumes', () => {
    const web = findOne(objects, 'Deployment', 'corral-web').spec as Loose;
    expect(web.template.metadata.labels).toMatchObject({ team: 'ml', tier: 'front' });
    expect(web.template.spec.priorityClassName).toBe('corral-high');
    expect(web.template.spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'corral-extra' } }]);
    const chat = findOne(objects, 'Deployment', 'corral-chat-api').spec as Loose;
    expect(chat.template.spec.volumes).toContainEqual({ name: 'certs', configMap: { name: 'corporate-ca' } });
    expect(chat.template.spec.containers[0].volumeMounts).toContainEqual({
      name: 'certs',
      mountPath: '/etc/corporate-ca',
    });
  });
  it('extraObjects (templated) and an HTTPRoute with the Ingress routes', () => {
    expect(findOne(objects, 'ConfigMap', 'corral-extra').kind).toBe('ConfigMap');
    const route = findOne(objects, 'HTTPRoute', 'corral').spec as Loose;
    expect(route.hostnames).toEqual(['corral.example.com']);
    expect(route.rules.map((r: Loose) => `${r.matches[0].path.value}->${r.backendRefs[0].name}`)).toEqual([
      '/api/auth->corral-auth',
      '/.well-known->corral-auth',
      '/api->corral-chat-api',
      '/v1->corral-chat-api',
      '/->corral-web',
    ]);
  });
});
