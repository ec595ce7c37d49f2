import { fileURLToPath } from 'node:url';
import { listeningUrl, startTsProcess, type TestProcess } from '@corral/test-support';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface SpawnedService extends TestProcess {
  /** From its "listening" log line; rejects if it exits first. */
  url: Promise<string>;
  /** Its exit code. */
  exit: Promise<number | null>;
}

/**
 * Starts a fixture service as a real Node process (TypeScript through tsx) with only PATH from this
 * environment, so its configuration is exactly `env`; its port comes from its logs.
 */
export function spawnService(
  fixture: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): SpawnedService {
  const service = startTsProcess(fixture, [], {
    cwd: packageDir,
    nodeArgs,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', ...env },
  });
  const url = service.waitFor(listeningUrl, { what: '"listening" log line' });
  url.catch(() => {}); // tests that expect a failed start-up never await the URL
  return { ...service, url, exit: service.exited.then((status) => status.code) };
}
