import { configureSim, type RunningService, startService, startSimProcess } from '@corral/test-support';

export { configureSim };

export type ServiceName = 'auth' | 'chat-api' | 'inference-gateway' | 'web';

const ENTRY: Record<ServiceName, string> = {
  auth: 'services/auth/src/index.ts',
  'chat-api': 'services/chat-api/src/index.ts',
  'inference-gateway': 'services/inference-gateway/src/index.ts',
  web: 'services/web/server/index.ts',
};

/** A Corral service or an ollama-sim running as a real process, so it can really die. */
export type RunningProcess = RunningService;

/**
 * Starts a service from source (`node --conditions=corral-source --import tsx services/<svc>/src/index.ts`)
 * on `port` (a free one when 0) and resolves once its /healthz answers (after migrations and keys).
 */
export function spawnService(
  service: ServiceName,
  env: Record<string, string>,
  { port = 0, timeoutMs = 60_000 }: { port?: number; timeoutMs?: number } = {},
): Promise<RunningProcess> {
  return startService(ENTRY[service], { name: service, readyWhen: 'healthy', port, timeoutMs, env });
}

/** ollama-sim through its CLI (the way `pnpm start` runs it), on `port` (0 = any). */
export const spawnSim = (flags: string[] = [], port = 0): Promise<RunningProcess> =>
  startSimProcess(flags, { port });
