import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT, freePort } from './env.js';

export type ServiceName = 'auth' | 'chat-api' | 'inference-gateway' | 'web';

const ENTRY: Record<ServiceName, string> = {
  auth: 'services/auth/src/index.ts',
  'chat-api': 'services/chat-api/src/index.ts',
  'inference-gateway': 'services/inference-gateway/src/index.ts',
  web: 'services/web/server/index.ts',
};

/** A Corral service or an ollama-sim running as a real process, so it can really die. */
export interface RunningProcess {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  readonly exited: Promise<unknown>;
  isAlive(): boolean;
  /** SIGKILL: no goodbye, sockets reset by the kernel. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL if still running after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Variables of the test runner that must not leak into a spawned service. */
const RUNNER_VARIABLES = ['NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID', 'TEST'];

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of RUNNER_VARIABLES) delete env[key];
  return { ...env, ...extra };
}

function track(
  name: string,
  child: ChildProcess,
  ready: (output: string) => string | undefined,
  timeoutMs: number,
): Promise<RunningProcess> {
  let output = '';
  const exited = once(child, 'exit');
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-200_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-200_000)));
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (sig: NodeJS.Signals) => {
    if (isAlive()) child.kill(sig);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output.slice(-4000)}`));
    }, timeoutMs);
    const check = () => {
      const url = ready(output);
      if (!url) return;
      cleanup();
      resolve({
        name,
        url,
        port: Number(new URL(url).port),
        child,
        output: () => output,
        exited,
        isAlive,
        kill: () => signal('SIGKILL'),
        stop: async (graceMs = 10_000) => {
          if (!isAlive()) return;
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await signal('SIGTERM');
          clearTimeout(timer);
        },
      });
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${name} exited (${sig ?? code}) before it was ready:\n${output.slice(-4000)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', check);
    child.once('exit', onExit);
  });
}

/**
 * Starts a service from source (`node --conditions=corral-source --import tsx services/<svc>/src/index.ts`)
 * on `port` (a free one when 0) and resolves once its /healthz answers (after migrations and keys).
 */
export async function spawnService(
  service: ServiceName,
  env: Record<string, string>,
  { port = 0, timeoutMs = 60_000 }: { port?: number; timeoutMs?: number } = {},
): Promise<RunningProcess> {
  const listenPort = port || (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const child = spawn(process.execPath, ['--conditions=corral-source', '--import', 'tsx', ENTRY[service]], {
    cwd: REPO_ROOT,
    env: childEnv({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...env,
      PORT: String(listenPort),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let healthy = false;
  const poll = async () => {
    while (!healthy && child.exitCode === null && child.signalCode === null) {
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) {
          healthy = true;
          child.stdout?.emit('data', Buffer.alloc(0));
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  void poll();
  return track(service, child, () => (healthy ? url : undefined), timeoutMs);
}

/** ollama-sim through its CLI (the way `pnpm start` runs it), on `port` (0 = any). */
export function spawnSim(flags: string[] = [], port = 0): Promise<RunningProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=corral-source',
      '--import',
      'tsx',
      'packages/ollama-sim/src/cli.ts',
      '--port',
      String(port),
      ...flags,
    ],
    { cwd: REPO_ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return track('ollama-sim', child, (output) => /listening on (http:\/\/\S+)/.exec(output)?.[1], 30_000);
}

/** Sets the simulator's pace, reply length or failure mode through /_sim/config. */
export async function configureSim(url: string, settings: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  if (!res.ok) throw new Error(`/_sim/config answered ${res.status}: ${await res.text()}`);
}
