import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface SpawnedService {
  child: ChildProcess;
  output: () => string;
  url: Promise<string>;
  exit: Promise<number | null>;
}

/** Starts a fixture service as a real Node process (TypeScript through tsx) and finds its port in its logs. */
export function spawnService(
  fixture: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): SpawnedService {
  const child = spawn(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', ...nodeArgs, fixture],
    {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let resolveUrl: (url: string) => void;
  let rejectUrl: (error: Error) => void;
  const url = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    const match = /"message":"listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"message":"listening"/.exec(
      output,
    );
    if (match) resolveUrl(`http://127.0.0.1:${match[1] ?? match[2]}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  void exit.then(() => rejectUrl(new Error(`service exited before listening:\n${output}`)));
  url.catch(() => {}); // tests that expect a failed start-up never await the URL
  return { child, output: () => output, url, exit };
}
