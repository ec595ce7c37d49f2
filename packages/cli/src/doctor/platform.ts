// Checks over HTTP/TCP: services ready and on one version, clock skew, Redis, the Ollama pool, TLS.
import tls from 'node:tls';
import axios from 'axios';
import { Redis } from 'ioredis';
import type { BackendView } from '@corral/contracts';
import { probe, type ServiceStatus } from '../commands/status.js';
import { errorMessage } from '../errors.js';
import type { ServiceKey } from '../targets.js';
import { type CheckResult, fail, pass, warnAt } from './report.js';

const EMBEDDING_NAME = /embed|minilm|bge|(^|[-/])e5([-:]|$)/i;
/** Access tokens are checked with a little leeway; skew beyond this makes fresh tokens fail. */
const SKEW_WARN_S = 5;
const SKEW_FAIL_S = 30;

export async function checkServices(
  urls: Record<ServiceKey, string | undefined>,
): Promise<{ results: CheckResult[]; statuses: ServiceStatus[] }> {
  const entries = Object.entries(urls) as [ServiceKey, string | undefined][];
  const statuses = await Promise.all(entries.map(([service, url]) => probe(service, url)));
  const results = statuses.map((status) => {
    const check = `service ${status.service}`;
    if (!status.url)
      return warnAt(
        check,
        'no URL',
        `pass --${status.service === 'inference-gateway' ? 'gateway' : status.service}-url or set its *_URL`,
      );
    if (status.ready) return pass(check, `ready, v${status.version ?? '?'} at ${status.url}`);
    const down = Object.entries(status.checks).filter(([, state]) => state !== 'up');
    return fail(
      check,
      `${status.status}${down.length ? `: ${down.map(([name, state]) => `${name} ${state}`).join(', ')}` : ''}`,
      `kubectl logs deploy/<release>-${status.service} (or the local run's output); fix what its /readyz names`,
    );
  });
  const versions = new Set(statuses.filter((s) => s.version).map((s) => s.version));
  results.push(
    versions.size <= 1
      ? pass('one version', versions.size ? `all on v${[...versions][0]}` : 'no versions reported')
      : fail(
          'one version',
          statuses.map((s) => `${s.service} v${s.version ?? '?'}`).join(', '),
          'finish the rollout (kubectl rollout status) or deploy every service from one image tag (helm upgrade --set image.tag=…)',
        ),
  );
  return { results, statuses };
}

/** Each service's clock from its HTTP Date header, against ours (one-second resolution). */
export async function checkClockSkew(urls: string[]): Promise<CheckResult> {
  const skews: { url: string; seconds: number }[] = [];
  for (const url of urls) {
    try {
      const before = Date.now();
      const response = await axios.get(`${url}/healthz`, { timeout: 5000, validateStatus: () => true });
      const middle = (before + Date.now()) / 2;
      const date = Date.parse(String(response.headers.date ?? ''));
      if (Number.isFinite(date)) skews.push({ url, seconds: (date - middle) / 1000 });
    } catch {
      // unreachable services are reported by their own line
    }
  }
  if (skews.length === 0)
    return warnAt('clock skew', 'no service answered with a Date header', 'check the services first');
  const spread = Math.max(...skews.map((s) => s.seconds), 0) - Math.min(...skews.map((s) => s.seconds), 0);
  const detail = `largest difference ${spread.toFixed(0)}s between the services and this machine`;
  const fix =
    'run NTP (chrony/systemd-timesyncd) on every node: JWT iat/exp checks fail when clocks disagree';
  if (spread > SKEW_FAIL_S) return fail('clock skew', detail, fix);
  if (spread > SKEW_WARN_S) return warnAt('clock skew', detail, fix);
  return pass('clock skew', detail);
}

export async function checkRedis(url: string | undefined, localRun: boolean): Promise<CheckResult> {
  const check = 'redis';
  if (!url) {
    return localRun
      ? pass(check, 'not used (a single local run keeps rate limits and streams in-process)')
      : warnAt(
          check,
          'REDIS_URL not set here',
          'set REDIS_URL as the services have it; without Redis, replicas do not share limits or streams',
        );
  }
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const answer = await redis.ping();
    return pass(check, `${new URL(url).host} answers ${answer}`);
  } catch (error) {
    return fail(
      check,
      `${new URL(url).host}: ${errorMessage(error)}`,
      'start Redis (kubectl get pods -l app.kubernetes.io/component=redis), or fix REDIS_URL and its NetworkPolicy',
    );
  } finally {
    redis.disconnect();
  }
}

export function classifyModels(backends: BackendView[]): { chat: string[]; embeddings: string[] } {
  const names = [...new Set(backends.filter((b) => b.state === 'healthy').flatMap((b) => b.models))].sort();
  return {
    chat: names.filter((name) => !EMBEDDING_NAME.test(name)),
    embeddings: names.filter((name) => EMBEDDING_NAME.test(name)),
  };
}

export async function checkPool(
  gatewayUrl: string | undefined,
  token: string | undefined,
): Promise<{ results: CheckResult[]; models: { chat: string[]; embeddings: string[] } }> {
  const none = { chat: [], embeddings: [] };
  if (!gatewayUrl)
    return {
      results: [warnAt('ollama pool', 'no gateway URL', 'pass --gateway-url or set GATEWAY_URL')],
      models: none,
    };
  let backends: BackendView[];
  try {
    const response = await axios.get(`${gatewayUrl}/admin/backends`, {
      timeout: 5000,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    backends = (response.data as { backends: BackendView[] }).backends;
  } catch (error) {
    return {
      results: [
        fail(
          'ollama pool',
          `/admin/backends: ${errorMessage(error)}`,
          'give the doctor GATEWAY_SERVICE_TOKEN (or _FILE) and check the gateway',
        ),
      ],
      models: none,
    };
  }
  const healthy = backends.filter((backend) => backend.state === 'healthy');
  const results: CheckResult[] = [];
  results.push(
    healthy.length === 0
      ? fail(
          'ollama pool',
          `${backends.length} backend(s), none healthy`,
          'check the Ollama pods (kubectl get pods -l app.kubernetes.io/component=ollama) and OLLAMA_URLS / discovery; corral status lists each backend',
        )
      : pass('ollama pool', `${healthy.length} of ${backends.length} backend(s) healthy`),
  );
  const models = classifyModels(backends);
  results.push(
    models.chat.length
      ? pass('chat model', models.chat.join(', '))
      : fail(
          'chat model',
          'no chat model on a healthy backend',
          'pull one: POST /admin/models/pull {"model":"llama3.2"} on the gateway (or ollama pull)',
        ),
    models.embeddings.length
      ? pass('embeddings model', models.embeddings.join(', '))
      : fail(
          'embeddings model',
          'no embeddings model on a healthy backend',
          'pull one: POST /admin/models/pull {"model":"nomic-embed-text"} on the gateway (or ollama pull)',
        ),
  );
  return { results, models };
}

const TLS_WARN_DAYS = 21;
const TLS_FAIL_DAYS = 7;

/** `ca`: trust these instead of the system's roots (tests). */
export async function checkTls(
  publicUrl: string | undefined,
  localRun: boolean,
  ca?: string,
): Promise<CheckResult> {
  const check = 'tls certificate';
  if (!publicUrl) {
    return localRun
      ? pass(check, 'local run over http://localhost')
      : warnAt(
          check,
          'PUBLIC_URL not set',
          'set PUBLIC_URL (or pass --public-url) to check the certificate users see',
        );
  }
  const url = new URL(publicUrl);
  if (url.protocol !== 'https:') {
    return localRun && ['localhost', '127.0.0.1'].includes(url.hostname)
      ? pass(check, `${publicUrl} is local`)
      : warnAt(
          check,
          `${publicUrl} is not https`,
          'enable TLS on the Ingress (ingress.tls / cert-manager) and set PUBLIC_URL to https://…',
        );
  }
  try {
    const validTo = await new Promise<Date>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: url.hostname,
          port: Number(url.port || 443),
          servername: url.hostname,
          timeout: 5000,
          // Read the certificate even when it is not trusted, to say why.
          rejectUnauthorized: false,
          ...(ca ? { ca } : {}),
        },
        () => {
          const certificate = socket.getPeerCertificate();
          const authorized = socket.authorized;
          socket.end();
          if (!authorized)
            reject(new Error(`certificate not trusted (${String(socket.authorizationError)})`));
          else resolve(new Date(certificate.valid_to));
        },
      );
      socket.once('error', reject);
      socket.once('timeout', () => socket.destroy(new Error('timed out')));
    });
    const days = Math.floor((validTo.getTime() - Date.now()) / 86_400_000);
    const detail = `${url.host} valid until ${validTo.toISOString().slice(0, 10)} (${days} days)`;
    const fix = 'renew it: check cert-manager (kubectl get certificate) or replace the TLS Secret';
    if (days < TLS_FAIL_DAYS) return fail(check, detail, fix);
    if (days < TLS_WARN_DAYS) return warnAt(check, detail, fix);
    return pass(check, detail);
  } catch (error) {
    return fail(
      check,
      `${url.host}: ${errorMessage(error)}`,
      'serve a certificate a client trusts for that host (cert-manager issuer, ingress.tls)',
    );
  }
}
