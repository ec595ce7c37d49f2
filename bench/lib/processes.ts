import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceRuntimeEnv } from '../../packages/service-kit/src/node-runtime.js';
import { REPO_ROOT } from './paths.js';

export interface RunningProcess {
  name: string;
  pid: number;
  url: string;
  port: number;
  /** The last lines it printed, for error messages. */
  output: () => string;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();

// A bench that throws or is interrupted must not leave services behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** A port that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Path polled until it answers 200. */
  readyPath: string;
  readyTimeoutMs?: number;
  cwd?: string;
}

/** Starts a child process, keeps the tail of its output, and waits until `readyPath` answers 200. */
export async function startProcess(options: StartProcessOptions): Promise<RunningProcess> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      running.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${options.port}`;
  const output = () => lines.slice(-40).join('\n');
  const stop = async () => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${options.name} exited (code ${exitCode}) before it was ready:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} was not ready at ${url}${options.readyPath} in time:\n${output()}`);
    }
    await sleep(100);
  }
  return { name: options.name, pid: child.pid ?? -1, url, port: options.port, output, stop };
}

export type ServiceName = 'auth' | 'chat-api' | 'inference-gateway' | 'web';

/**
 * `dist` (default; build first) runs the compiled service as production does; `source` runs the
 * TypeScript through tsx. BENCH_FROM=source|dist overrides.
 */
export type RunFrom = 'dist' | 'source';
export const RUN_FROM: RunFrom = process.env.BENCH_FROM === 'source' ? 'source' : 'dist';

const ENTRY: Record<ServiceName, { dist: string; source: string }> = {
  auth: { dist: 'dist/index.js', source: 'src/index.ts' },
  'chat-api': { dist: 'dist/index.js', source: 'src/index.ts' },
  'inference-gateway': { dist: 'dist/index.js', source: 'src/index.ts' },
  web: { dist: 'dist/server/index.js', source: 'server/index.ts' },
};

function nodeArgs(entry: { dist: string; source: string }, dir: string, from: RunFrom): string[] {
  if (from === 'dist') {
    const file = path.join(dir, entry.dist);
    if (!existsSync(file))
      throw new Error(`${file} is missing: build it first, or run with BENCH_FROM=source`);
    return [file];
  }
  return ['--conditions=corral-source', '--import', 'tsx', path.join(dir, entry.source)];
}

const envName = (prefix: string, name: ServiceName) => `${prefix}_${name.toUpperCase().replaceAll('-', '_')}`;

/**
 * Extra node flags for one service only, e.g. BENCH_NODE_ARGS_CHAT_API="--cpu-prof
 * --cpu-prof-dir=/tmp/chatprof" to profile chat-api under a bench's load (space-separated).
 */
function extraNodeArgs(name: ServiceName): string[] {
  const value = process.env[envName('BENCH_NODE_ARGS', name)];
  return value ? value.split(/\s+/).filter(Boolean) : [];
}

/**
 * Another build of one service, e.g. BENCH_ENTRY_CHAT_API=/tmp/before/dist/index.js (a directory
 * whose node_modules resolves the workspace's), for a before/after comparison in one run.
 */
function entryOverride(name: ServiceName): string[] | undefined {
  const file = process.env[envName('BENCH_ENTRY', name)];
  return file ? [file] : undefined;
}

/**
 * As the image's CMD runs a service: `--import @corral/service-kit/otel-register` (a no-op without
 * OTEL_EXPORTER_OTLP_ENDPOINT) just before the entry file, so it comes after tsx when run from source.
 */
function withTracingPreload(args: string[]): string[] {
  return [...args.slice(0, -1), '--import', '@corral/service-kit/otel-register', ...args.slice(-1)];
}

/** Starts one Corral service on a free port with quiet logs and a short shutdown grace. */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  options: { from?: RunFrom; readyTimeoutMs?: number } = {},
): Promise<RunningProcess> {
  const port = await freePort();
  const dir = path.join(REPO_ROOT, 'services', name);
  return startProcess({
    name,
    command: process.execPath,
    args: [
      ...extraNodeArgs(name),
      ...withTracingPreload(entryOverride(name) ?? nodeArgs(ENTRY[name], dir, options.from ?? RUN_FROM)),
    ],
    cwd: dir,
    env: {
      // The Node/malloc settings of the image and the chart (docs/operations.md, "Memory").
      ...serviceRuntimeEnv(process.env),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '2000',
      ...env,
      PORT: String(port),
    },
    port,
    readyPath: '/readyz',
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
  });
}

export interface SimOptions {
  tokensPerSecond: number;
  ttftMs: number;
  responseTokens: number;
  models?: string[];
  /** More ollama-sim flags (they override the ones above), e.g. ['--profile', 'gpu-8b']. */
  args?: string[];
}

/** ollama-sim as its own process (so its work is not charged to the load generator). */
export async function startSim(options: SimOptions, from: RunFrom = RUN_FROM): Promise<RunningProcess> {
  const port = await freePort();
  const dir = path.join(REPO_ROOT, 'packages', 'ollama-sim');
  return startProcess({
    name: 'ollama-sim',
    command: process.execPath,
    args: [
      ...nodeArgs({ dist: 'dist/cli.js', source: 'src/cli.ts' }, dir, from),
      '--port',
      String(port),
      '--models',
      (options.models ?? ['llama3.2']).join(','),
      '--tokens-per-second',
      String(options.tokensPerSecond),
      '--ttft-ms',
      String(options.ttftMs),
      '--response-tokens',
      String(options.responseTokens),
      '--max-queue',
      '100000',
      ...(options.args ?? []),
    ],
    cwd: dir,
    env: {},
    port,
    readyPath: '/api/version',
  });
}

/** Stops processes in reverse start order, ignoring ones already gone. */
export async function stopAll(processes: Array<RunningProcess | undefined>): Promise<void> {
  for (const p of [...processes].reverse()) {
    if (p) await p.stop().catch(() => undefined);
  }
}
