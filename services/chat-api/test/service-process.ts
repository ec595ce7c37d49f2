import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: services are started from there, as `pnpm start` does. */
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGKILL, waiting for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful shutdown), waiting for the exit. */
  stop(): Promise<void>;
}

/**
 * A Corral service as its own process, as in production:
 * `node --conditions=corral-source --import tsx <entry>` on an ephemeral port. Resolves with the
 * port from service-kit's "listening" log line; rejects with the output if it exits first.
 */
export async function spawnService(entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--conditions=corral-source', '--import', 'tsx', entry], {
    cwd: REPO,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"message":"listening".*?"port":(\d+)|"port":(\d+).*?"message":"listening"/.exec(output);
      if (match) resolve(Number(match[1] ?? match[2]));
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) =>
      reject(new Error(`${entry} exited with ${code} before listening:\n${output}`)),
    );
  });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(name);
    await exited;
  };
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/** Resolves once the process has logged `message` `count` times; rejects if it exits first. */
export function waitForLog(service: ServiceProcess, message: string, count = 1): Promise<void> {
  const needle = `"message":${JSON.stringify(message)}`;
  const seen = () => service.output().split(needle).length - 1 >= count;
  return new Promise((resolve, reject) => {
    const stdout = service.child.stdout!;
    const onExit = () => reject(new Error(`exited before logging "${message}":\n${service.output()}`));
    const check = () => {
      if (!seen()) return;
      stdout.off('data', check);
      service.child.off('exit', onExit);
      resolve();
    };
    stdout.on('data', check);
    service.child.once('exit', onExit);
    check();
  });
}
