import { type ChildProcess, spawn } from 'node:child_process';
import { REPO_ROOT } from './env.js';
import { freePort } from './ports.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (a missing binary). */
  error?: Error;
}

/** A process a test started, with what it printed, so that it can be waited on, stopped or killed. */
export interface TestProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** What it printed so far, stdout and stderr as they came (the last `maxOutput` characters). */
  output(): string;
  /** Settles when it has exited (or failed to start); never rejects. */
  readonly exited: Promise<ExitStatus>;
  isAlive(): boolean;
  /**
   * Resolves with the first result of `find(output)` that is not undefined, null or false, checked at
   * every chunk of output; rejects with the output if the process exits first or `timeoutMs` passes.
   */
  waitFor<T>(
    find: (output: string) => T | undefined | null | false,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<T>;
  /** `signal` (SIGTERM: a graceful shutdown), then SIGKILL if it still runs after `graceMs`; resolves at the exit. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGKILL: no goodbye, its sockets reset by the kernel; resolves at the exit. */
  kill(): Promise<ExitStatus>;
}

/** How much output a process keeps by default: long-running services print a lot over a suite. */
export const MAX_OUTPUT = 1_000_000;

/** Variables of the test runner that must not leak into a process a test starts. */
export const RUNNER_VARIABLES = ['NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID', 'TEST'];

/** process.env without the runner's variables and those named in `drop`, with `extra` on top; no colours. */
export function childEnv(extra: Record<string, string> = {}, drop: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of [...RUNNER_VARIABLES, ...drop]) delete env[key];
  return { ...env, ...extra };
}

export interface StartProcessOptions {
  /** For messages; the command's name by default. */
  name?: string;
  /** REPO_ROOT by default. */
  cwd?: string;
  /** The whole environment of the process: childEnv() by default. */
  env?: NodeJS.ProcessEnv;
  /** Run as another OS user (e.g. PostgreSQL's, which refuses to run as root). */
  uid?: number;
  gid?: number;
  /** How many characters of output to keep (the latest): MAX_OUTPUT by default, Infinity for all. */
  maxOutput?: number;
}

const tail = (output: string) => output.slice(-4000);
const describeExit = (status: ExitStatus) =>
  status.error ? `failed to start: ${status.error.message}` : `exited (${status.signal ?? status.code})`;

/** Starts `command` with its output captured; see TestProcess. */
export function startProcess(
  command: string,
  args: string[],
  {
    name = command,
    cwd = REPO_ROOT,
    env = childEnv(),
    uid,
    gid,
    maxOutput = MAX_OUTPUT,
  }: StartProcessOptions = {},
): TestProcess {
  const child = spawn(command, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > maxOutput) output = output.slice(-maxOutput);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const isAlive = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

  const waitFor: TestProcess['waitFor'] = (find, { timeoutMs, what = 'what it waited for' } = {}) =>
    new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
      };
      function check(): boolean {
        if (settled) return true;
        const found = find(output);
        if (found === undefined || found === null || found === false) return false;
        finish();
        resolve(found);
        return true;
      }
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          if (check()) return;
          finish();
          reject(new Error(`${name}: no ${what} within ${timeoutMs} ms:\n${tail(output)}`));
        }, timeoutMs);
      }
      void exited.then((status) => {
        if (check()) return;
        finish();
        reject(new Error(`${name} ${describeExit(status)} before ${what}:\n${tail(output)}`));
      });
      check();
    });

  const stop = async (graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> => {
    if (!isAlive()) return exited;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };

  return {
    name,
    child,
    output: () => output,
    exited,
    isAlive,
    waitFor,
    stop,
    kill: () => stop(0, 'SIGKILL'),
  };
}

export interface StartTsProcessOptions extends StartProcessOptions {
  /** Node flags before the entry (e.g. `--import` of a tracing hook). */
  nodeArgs?: string[];
}

/**
 * A workspace entry point run from its TypeScript source, as `pnpm start` does:
 * `node --conditions=corral-source --import tsx <nodeArgs> <entry> <args>` (entry relative to `cwd`).
 */
export function startTsProcess(
  entry: string,
  args: string[] = [],
  { nodeArgs = [], ...options }: StartTsProcessOptions = {},
): TestProcess {
  return startProcess(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', ...nodeArgs, entry, ...args],
    { name: entry, ...options },
  );
}

const LISTENING = /"message":"listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"message":"listening"/;

/** The URL from service-kit's `listening` log line, once the output has one. */
export function listeningUrl(output: string): string | undefined {
  const match = LISTENING.exec(output);
  return match ? `http://127.0.0.1:${match[1] ?? match[2]}` : undefined;
}

/** How many times a service has logged `message` (service-kit's JSON lines). */
export const logCount = (output: string, message: string): number =>
  output.split(`"message":${JSON.stringify(message)}`).length - 1;

export interface RunningService extends TestProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
}

export interface StartServiceOptions {
  /** The service's variables, on top of NODE_ENV=test and HOST=127.0.0.1 (and LOG_LEVEL, see readyWhen). */
  env?: Record<string, string>;
  /**
   * How to tell it is up. `listening` (default): service-kit's "listening" log line gives the port
   * (PORT=0 unless `port`; LOG_LEVEL is info unless set). `healthy`: GET /healthz answers 2xx, on
   * `port` or a free one (LOG_LEVEL is warn unless set) — after migrations and anything else start-up does.
   */
  readyWhen?: 'listening' | 'healthy';
  port?: number;
  /** 60 s by default: a tsx start-up with migrations takes seconds on a busy machine. */
  timeoutMs?: number;
  name?: string;
  cwd?: string;
  nodeArgs?: string[];
  /** What the service's variables go on top of: childEnv() by default. */
  baseEnv?: NodeJS.ProcessEnv;
}

/** A Corral service (`services/<name>/src/index.ts`) as its own process, resolved once it is up. */
export async function startService(
  entry: string,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const { readyWhen = 'listening', timeoutMs = 60_000, env = {} } = options;
  const port = readyWhen === 'healthy' ? options.port || (await freePort()) : (options.port ?? 0);
  const started = startTsProcess(entry, [], {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    env: {
      ...(options.baseEnv ?? childEnv()),
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: readyWhen === 'listening' ? 'info' : 'warn',
      ...env,
      PORT: String(port),
    },
  });
  try {
    const url =
      readyWhen === 'listening'
        ? await started.waitFor(listeningUrl, { timeoutMs, what: '"listening" log line' })
        : await untilHealthy(started, `http://127.0.0.1:${port}`, timeoutMs);
    return { ...started, url, port: Number(new URL(url).port) };
  } catch (error) {
    await started.kill();
    throw error;
  }
}

async function untilHealthy(service: TestProcess, url: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (service.isAlive()) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return url;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name}: /healthz did not answer within ${timeoutMs} ms:\n${tail(service.output())}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${service.name} ${describeExit(await service.exited)} before it was healthy:\n${tail(service.output())}`,
  );
}

/** ollama-sim through its CLI (as `pnpm start` runs it) on `port` (0: any), resolved once it listens. */
export async function startSimProcess(
  flags: string[] = [],
  { port = 0, timeoutMs = 30_000, env }: { port?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningService> {
  const started = startTsProcess('packages/ollama-sim/src/cli.ts', ['--port', String(port), ...flags], {
    name: 'ollama-sim',
    ...(env === undefined ? {} : { env }),
  });
  try {
    const url = await started.waitFor((output) => /listening on (http:\/\/\S+)/.exec(output)?.[1], {
      timeoutMs,
      what: '"listening on" line',
    });
    return { ...started, url, port: Number(new URL(url).port) };
  } catch (error) {
    await started.kill();
    throw error;
  }
}

/** Sets a running ollama-sim's pace, reply length or failure mode through its /_sim/config. */
export async function configureSim(url: string, settings: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  if (!res.ok) throw new Error(`/_sim/config answered ${res.status}: ${await res.text()}`);
}
