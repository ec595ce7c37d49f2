import type { BackendPool, BackendView } from '@corral/contracts';
import axios from 'axios';
import { CliError } from '../errors.js';
import { say } from '../output.js';
import { gatewayServiceToken, loadTargets, serviceUrl, type ServiceKey } from '../targets.js';
import { type Command, str } from './types.js';

export const ORDER: ServiceKey[] = ['web', 'auth', 'chat-api', 'inference-gateway'];

export interface ServiceStatus {
  service: ServiceKey;
  url: string | null;
  ready: boolean;
  status: string;
  version: string | null;
  checks: Record<string, string>;
}

export async function probe(service: ServiceKey, url: string | undefined): Promise<ServiceStatus> {
  if (!url) return { service, url: null, ready: false, status: 'no URL', version: null, checks: {} };
  const get = (path: string) => axios.get(`${url}${path}`, { timeout: 5000, validateStatus: () => true });
  try {
    const [ready, live] = await Promise.all([get('/readyz'), get('/healthz')]);
    const body = ready.data as {
      status?: string;
      checks?: Record<string, { status?: string; error?: string }>;
    };
    const checks = Object.fromEntries(
      Object.entries(body?.checks ?? {}).map(([name, check]) => [
        name,
        check.status === 'up' ? 'up' : `down${check.error ? ` (${check.error})` : ''}`,
      ]),
    );
    const version = (live.data as { version?: string } | undefined)?.version ?? null;
    return {
      service,
      url,
      ready: ready.status === 200,
      status: ready.status === 200 ? 'ready' : `not ready (${ready.status})`,
      version,
      checks,
    };
  } catch (error) {
    const reason = axios.isAxiosError(error) ? (error.code ?? error.message) : String(error);
    return { service, url, ready: false, status: `unreachable (${reason})`, version: null, checks: {} };
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: "every service's readiness, the inference pool and versions",
  usage: `corral status [--json] [--web-url URL] [--auth-url URL] [--chat-api-url URL] [--gateway-url URL]

Checks GET /readyz and /healthz of each service and the gateway's GET /admin/backends.
URLs: the flags, else WEB_URL, AUTH_URL, CHAT_API_URL, GATEWAY_URL, else the local run.
The pool needs the gateway's service token: GATEWAY_SERVICE_TOKEN (or _FILE), else the local run's.
Exit code 1 when any service is not ready.`,
  options: {
    json: { type: 'boolean' },
    'web-url': { type: 'string' },
    'auth-url': { type: 'string' },
    'chat-api-url': { type: 'string' },
    'gateway-url': { type: 'string' },
  },
  async run(values) {
    const targets = loadTargets();
    const flags: Record<ServiceKey, string | undefined> = {
      web: str(values, 'web-url'),
      auth: str(values, 'auth-url'),
      'chat-api': str(values, 'chat-api-url'),
      'inference-gateway': str(values, 'gateway-url'),
    };
    const urls = ORDER.map((service) => serviceUrl(targets, service, flags[service]));
    if (urls.every((url) => url === undefined)) {
      throw new CliError(
        'no local Corral is running (start it with `pnpm start`); or point at one with WEB_URL, AUTH_URL, CHAT_API_URL, GATEWAY_URL',
      );
    }
    const services = await Promise.all(ORDER.map((service, index) => probe(service, urls[index])));
    const gateway = services.find((entry) => entry.service === 'inference-gateway');
    let backends: BackendView[] | undefined;
    if (gateway?.url) {
      const token = gatewayServiceToken(targets);
      try {
        const response = await axios.get(`${gateway.url}/admin/backends`, {
          timeout: 5000,
          headers: token ? { Authorization: `Bearer ${token}` } : {},
        });
        backends = (response.data as BackendPool).backends;
      } catch {
        backends = undefined;
      }
    }
    const inference = targets.local?.inference;
    if (values.json) {
      say(JSON.stringify({ services, backends: backends ?? null, inference: inference ?? null }, null, 2));
    } else {
      if (inference) say(`Inference: ${inference.label}`);
      for (const entry of services) {
        const checks = Object.entries(entry.checks)
          .map(([name, state]) => `${name}=${state}`)
          .join(' ');
        say(
          `${entry.service.padEnd(18)} ${entry.status.padEnd(12)} ${`v${entry.version ?? '?'}`.padEnd(9)} ${entry.url ?? '-'} ${checks}`.trimEnd(),
        );
      }
      if (backends) {
        say(`pool: ${backends.length} backend(s)`);
        for (const backend of backends) {
          say(
            `  ${backend.id}  ${backend.state}  ollama ${backend.version ?? '?'}  in-flight ${backend.inFlight}  ${backend.tokensPerSecond} tok/s  models: ${backend.models.join(', ') || '(none)'}`,
          );
        }
      } else if (gateway?.url) {
        say('pool: the gateway did not answer /admin/backends');
      }
    }
    return services.every((entry) => entry.ready || entry.url === null) &&
      services.some((entry) => entry.ready)
      ? 0
      : 1;
  },
};
