import { checkDatabase, type PoolBudget } from '../doctor/database.js';
import { checkClockSkew, checkPool, checkRedis, checkServices, checkTls } from '../doctor/platform.js';
import { type CheckResult, formatReport } from '../doctor/report.js';
import { checkSecrets } from '../doctor/secrets.js';
import { runSmoke } from '../doctor/smoke.js';
import { usageError } from '../errors.js';
import { say } from '../output.js';
import { gatewayServiceToken, loadTargets, type ServiceKey, serviceUrl, splitSchema } from '../targets.js';
import { type Command, str, type Values } from './types.js';

/** Pool sizes the services default to (DATABASE_POOL_MAX in their config). */
const DEFAULT_POOL: Record<string, number> = { auth: 5, 'chat-api': 10 };

/** `auth=2,chat-api=4` → replicas per service; a local run is one of each. */
function parseReplicas(raw: string | undefined, localRun: boolean): Record<string, number> {
  const replicas: Record<string, number> = { auth: localRun ? 1 : 2, 'chat-api': localRun ? 1 : 2 };
  for (const part of (raw ?? '').split(',').filter(Boolean)) {
    const [name, count] = part.split('=');
    const value = Number(count);
    if (!name || !(name in DEFAULT_POOL) || !Number.isInteger(value) || value < 0) {
      throw usageError(`--replicas wants auth=N,chat-api=N, got "${part}"`);
    }
    replicas[name] = value;
  }
  return replicas;
}

function poolBudget(values: Values, localRun: boolean, env = process.env): PoolBudget[] {
  const replicas = parseReplicas(str(values, 'replicas') ?? env.CORRAL_DOCTOR_REPLICAS, localRun);
  const poolOf = (service: string, variable: string) => {
    const raw = env[variable];
    const value = raw === undefined ? DEFAULT_POOL[service]! : Number(raw);
    if (!Number.isInteger(value) || value < 1)
      throw usageError(`${variable} must be a whole number, got "${raw}"`);
    return value;
  };
  return [
    { service: 'auth', replicas: replicas.auth!, poolMax: poolOf('auth', 'AUTH_DATABASE_POOL_MAX') },
    {
      service: 'chat-api',
      replicas: replicas['chat-api']!,
      poolMax: poolOf('chat-api', 'CHAT_DATABASE_POOL_MAX'),
    },
  ];
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check a deployment end to end: each line pass/warn/fail with its fix',
  usage: `corral doctor [--json] [--smoke] [--replicas auth=N,chat-api=N] [--public-url URL]
              [--web-url URL] [--auth-url URL] [--chat-api-url URL] [--gateway-url URL] [--database-url URL]

Checks: every service ready and on one version; secrets set, not defaults, long and varied enough
(never printed); the active signing key's age against SIGNING_KEY_ROTATION_DAYS; PostgreSQL
max_connections against replicas × DATABASE_POOL_MAX (AUTH_/CHAT_DATABASE_POOL_MAX, default 5/10),
long-running queries and dead-row bloat from pg_stat_*; Redis answers PING; the Ollama pool has a
healthy backend, a chat model and an embeddings model; PUBLIC_URL's TLS certificate expiry; clock
skew between the services. --smoke also sends a chat completion and an embedding through /v1 with a
15-minute inference-only API key of the admin's and revokes it: made with CORRAL_ADMIN_API_KEY (or
CORRAL_ADMIN_API_KEY_FILE; an admin's key with the keys and inference scopes, what works when
PASSWORD_LOGIN_ENABLED=false), else a sign-in with CORRAL_ADMIN_EMAIL/PASSWORD (or _PASSWORD_FILE),
else BOOTSTRAP_ADMIN_EMAIL/PASSWORD (or _PASSWORD_FILE), else the local run's admin.
Targets: flags, else the environment (WEB_URL AUTH_URL CHAT_API_URL GATEWAY_URL DATABASE_URL
REDIS_URL PUBLIC_URL GATEWAY_SERVICE_TOKEN), else the local run. Replicas: --replicas, else
CORRAL_DOCTOR_REPLICAS, else 1 each for the local run and 2 each otherwise.
Exit 1 when a line fails; warnings alone exit 0.`,
  options: {
    json: { type: 'boolean' },
    smoke: { type: 'boolean' },
    replicas: { type: 'string' },
    'public-url': { type: 'string' },
    'web-url': { type: 'string' },
    'auth-url': { type: 'string' },
    'chat-api-url': { type: 'string' },
    'gateway-url': { type: 'string' },
    'database-url': { type: 'string' },
  },
  async run(values) {
    const targets = loadTargets();
    const localRun = targets.local !== undefined;
    const urls: Record<ServiceKey, string | undefined> = {
      web: serviceUrl(targets, 'web', str(values, 'web-url')),
      auth: serviceUrl(targets, 'auth', str(values, 'auth-url')),
      'chat-api': serviceUrl(targets, 'chat-api', str(values, 'chat-api-url')),
      'inference-gateway': serviceUrl(targets, 'inference-gateway', str(values, 'gateway-url')),
    };
    const budget = poolBudget(values, localRun);
    const rotationDays = Number(process.env.SIGNING_KEY_ROTATION_DAYS ?? 0);
    const databaseUrl = str(values, 'database-url') ?? process.env.DATABASE_URL ?? targets.local?.databaseUrl;
    const publicUrl =
      str(values, 'public-url') ?? process.env.PUBLIC_URL ?? (localRun ? urls.web : undefined);

    const results: CheckResult[] = [];
    const services = await checkServices(urls);
    results.push(...services.results);
    results.push(await checkClockSkew(Object.values(urls).filter((url): url is string => url !== undefined)));
    results.push(...checkSecrets(process.env, localRun ? targets.secrets : undefined));
    if (databaseUrl) {
      results.push(...(await checkDatabase(splitSchema(databaseUrl).url, { budget, rotationDays })));
    } else {
      results.push({
        check: 'postgres',
        status: 'warn',
        detail: 'no DATABASE_URL: database checks skipped',
        fix: 'set DATABASE_URL (read access is enough) or pass --database-url',
      });
    }
    results.push(await checkRedis(process.env.REDIS_URL, localRun));
    const pool = await checkPool(urls['inference-gateway'], gatewayServiceToken(targets));
    results.push(...pool.results);
    results.push(await checkTls(publicUrl, localRun));
    if (values.smoke) {
      const v1Url = publicUrl ?? urls['chat-api'];
      if (!urls.auth || !v1Url) {
        results.push({
          check: 'smoke',
          status: 'fail',
          detail: 'no auth URL or /v1 URL',
          fix: 'set AUTH_URL and PUBLIC_URL (or CHAT_API_URL)',
        });
      } else {
        results.push(...(await runSmoke(targets, urls.auth, v1Url, pool.models)));
      }
    }
    const failed = results.some((result) => result.status === 'fail');
    say(values.json ? JSON.stringify({ ok: !failed, checks: results }, null, 2) : formatReport(results));
    return failed ? 1 : 0;
  },
};
