import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SimStats, SimTunables } from '@corral/ollama-sim';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = 'packages/ollama-sim/src/cli.ts';

/** An ollama-sim running as its own process (a GPU server stand-in that can really die). */
export interface SimProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  stats(): Promise<SimStats>;
  configure(settings: Partial<SimTunables> & { failure?: unknown }): Promise<void>;
  /** SIGKILL: no goodbye, open sockets reset by the kernel. */
  kill(): Promise<void>;
  /** SIGTERM, waiting for the exit. */
  close(): Promise<void>;
}

/** Starts `ollama-sim` from source (the way `pnpm start` does) and waits for its listening line. */
export async function spawnSim(flags: string[] = [], port = 0): Promise<SimProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', CLI, '--port', String(port), ...flags],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ollama-sim did not start:\n${output}`)), 20_000);
    const onData = (data: Buffer) => {
      output += data.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (data: Buffer) => void (output += data.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ollama-sim exited (${code}) before listening:\n${output}`));
    });
  });
  // Keep draining output so a chatty process never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = once(child, 'exit');
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stats: async () => (await (await fetch(`${url}/_sim/stats`)).json()) as SimStats,
    configure: async (settings) => {
      const res = await fetch(`${url}/_sim/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(settings),
      });
      if (!res.ok) throw new Error(`/_sim/config answered ${res.status}: ${await res.text()}`);
    },
    kill: () => stop('SIGKILL'),
    close: () => stop('SIGTERM'),
  };
}
