import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

export interface Proc {
  name: string;
  url: string;
  child: ChildProcess;
  /** Every pid whose CPU counts (nginx: master and workers). */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/**
 * BENCH_PIN=1 (on a machine with ≥ 2 CPUs): the proxy under test (nginx or the gateway) runs alone on
 * the last CPU, the sims and the load client on the others, as in a cluster, where the gateway has
 * CPU of its own and its clients and the GPU servers are elsewhere. Unpinned, all share every CPU.
 */
export const PINNED = process.env.BENCH_PIN === '1' && cpus().length >= 2;
const lastCpu = cpus().length - 1;
export const PROXY_CPUS = String(lastCpu);
export const LOAD_CPUS = lastCpu === 1 ? '0' : `0-${lastCpu - 1}`;

/** Moves this process (the load client, all its threads) onto LOAD_CPUS when pinning. */
export function pinLoadClient(): void {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', LOAD_CPUS, String(process.pid)], { stdio: 'ignore' });
}

function launch(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cpuList?: string,
): ChildProcess {
  // taskset execs the command, so the child's pid is the command's.
  const [file, argv] = PINNED && cpuList ? ['taskset', ['-c', cpuList, command, ...args]] : [command, args];
  const child = spawn(file, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (data: Buffer) => void (tail = (tail + data.toString('utf8')).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${name} exited with ${code}:\n${tail}`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitForHttp(url: string, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface SimSettings {
  tokensPerSecond: number;
  responseTokens: number;
  ttftMs: number;
}

/** One ollama-sim process (from source, as `pnpm start` runs it). */
export async function startSim(settings: SimSettings): Promise<Proc> {
  const port = await freePort();
  const child = launch(
    `ollama-sim:${port}`,
    process.execPath,
    [
      '--conditions=corral-source',
      '--import',
      'tsx',
      'packages/ollama-sim/src/cli.ts',
      '--port',
      String(port),
      '--models',
      'llama3.2',
      '--tokens-per-second',
      String(settings.tokensPerSecond),
      '--response-tokens',
      String(settings.responseTokens),
      '--ttft-ms',
      String(settings.ttftMs),
      '--max-queue',
      '100000',
    ],
    {},
    LOAD_CPUS,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/api/version`, 'ollama-sim');
  return { name: 'sim', url, child, pids: async () => [child.pid ?? 0], stop: () => stopChild(child) };
}

/** nginx as a plain round-robin reverse proxy over the sims: the baseline. */
export async function startNginx(upstreams: string[]): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-bench-nginx-'));
  const port = await freePort();
  const servers = upstreams.map((url) => `    server ${new URL(url).host};`).join('\n');
  const conf = `worker_processes 1;
worker_rlimit_nofile 20000;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream ollama {
${servers}
    keepalive 1024;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ollama;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = launch(
    'nginx',
    '/usr/sbin/nginx',
    ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'],
    {},
    PROXY_CPUS,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/api/version`, 'nginx');
  const pids = async () => {
    const master = child.pid ?? 0;
    const children = await readFile(`/proc/${master}/task/${master}/children`, 'utf8').catch(() => '');
    return [master, ...children.split(/\s+/).filter(Boolean).map(Number)];
  };
  return { name: 'nginx', url, child, pids, stop: () => stopChild(child) };
}

/** Extra node flags for the gateway only, e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function gatewayNodeArgs(): string[] {
  return (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/** The gateway as it ships: built dist, production mode, the service token required. */
export async function startGateway(
  upstreams: string[],
  serviceToken: string,
  env: NodeJS.ProcessEnv = {},
  entry = 'services/inference-gateway/dist/index.js',
): Promise<Proc> {
  const port = await freePort();
  const child = launch(
    'inference-gateway',
    process.execPath,
    [...gatewayNodeArgs(), entry],
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      OLLAMA_URLS: upstreams.join(','),
      GATEWAY_SERVICE_TOKEN: serviceToken,
      // Spread like nginx's upstream (the comparison is the hop's cost, not the routing; bench/routing
      // compares strategies).
      ROUTING_STRATEGY: 'round-robin',
      BACKEND_MAX_PARALLEL: '10000',
      QUEUE_MAX: '10000',
      // 1024 clients connect at once when a level starts: with Node's default 511 the queue overflows
      // while the loop is busy, and the dropped SYNs come back 1–7 s later (a p99 of seconds). A
      // longer queue does not make accepting faster: libuv accepts one connection per loop turn.
      HTTP_LISTEN_BACKLOG: '4096',
      ...env,
    },
    PROXY_CPUS,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, 'inference-gateway');
  return { name: 'gateway', url, child, pids: async () => [child.pid ?? 0], stop: () => stopChild(child) };
}

export interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** CPU time so far and memory of a set of pids, from /proc. */
export async function sampleProcesses(pids: number[]): Promise<ProcessSample> {
  let cpuTicks = 0;
  let rss = 0;
  let peak = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpuTicks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  }
  return { cpuSeconds: cpuTicks / CLOCK_TICKS, rssBytes: rss, peakRssBytes: peak };
}

/** Connections the kernel dropped because a listen queue was full (all sockets): SYNs then retry after 1 s, 3 s, 7 s. */
export async function listenOverflows(): Promise<number> {
  const text = await readFile('/proc/net/netstat', 'utf8').catch(() => '');
  const [names, values] = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  const index = names?.split(' ').indexOf('ListenOverflows') ?? -1;
  return index === -1 ? 0 : Number(values?.split(' ')[index] ?? 0);
}
