// The README's `pnpm start` from a fresh clone in a directory only its owner can enter (a 0700
// home or mktemp directory, as many VMs and dev containers have). As root, PostgreSQL runs as the
// `postgres` OS user, which cannot enter the clone: its files go to a folder of this checkout's own
// under /var/lib/corral (or the temp directory), named in the banner and used again next time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, childEnv, freePort, startProcess, type TestProcess } from '@corral/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BOOT_MS = 300_000;
const RUNNING = /Corral is running: (http:\/\/\S+)/;
const BANNER_END = /Ctrl-C stops everything\./;
const DATABASE_FILES = /Database files: (\S+) \(reused on the next start\)/;
const asRoot = process.getuid?.() === 0;

let parent: string;
let clone: string;
let relocatedFolder: string | undefined;

/**
 * What `pnpm start` runs in the clone (its package.json script, so Ctrl-C reaches corral itself,
 * as it does in a terminal), with free ports.
 */
async function pnpmStart(): Promise<TestProcess> {
  const script = (
    JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8')) as { scripts: { start: string } }
  ).scripts.start;
  const [command, ...args] = script.split(' ');
  expect(command).toBe('node');
  const env = childEnv({ PORT: String(await freePort()), CORRAL_POSTGRES_PORT: String(await freePort()) }, [
    'OLLAMA_URLS',
    'DATABASE_URL',
    'AUTH_URL',
    'CHAT_API_URL',
    'GATEWAY_URL',
    'REDIS_URL',
    'NODE_ENV',
    'CORRAL_HOME',
  ]);
  return startProcess(process.execPath, args, { name: 'pnpm start (0700 clone)', cwd: clone, env });
}

async function stop(run: TestProcess): Promise<void> {
  // Ctrl-C; corral stops its services and PostgreSQL, then exits 0.
  const status = await run.stop(60_000, 'SIGINT');
  expect(status.code, run.output().slice(-3000)).toBe(0);
}

beforeAll(() => {
  parent = mkdtempSync(path.join(os.tmpdir(), 'corral-0700-'));
  expect(statSync(parent).mode & 0o777).toBe(0o700);
  clone = path.join(parent, 'corral');
  const cloned = spawnSync('git', ['clone', '--quiet', REPO_ROOT, clone], { encoding: 'utf8' });
  expect(cloned.status, cloned.stderr).toBe(0);
  // The README's first command; --offline: the packages are in the store already.
  const installed = spawnSync('pnpm', ['install', '--frozen-lockfile', '--offline'], {
    cwd: clone,
    encoding: 'utf8',
    env: childEnv({}, ['NODE_ENV']),
  });
  expect(installed.status, `${installed.stdout}${installed.stderr}`).toBe(0);
}, BOOT_MS);

afterAll(() => {
  if (relocatedFolder) rmSync(relocatedFolder, { recursive: true, force: true });
  if (parent) rmSync(parent, { recursive: true, force: true });
}, BOOT_MS);

describe('pnpm start from a clone inside a 0700 directory', () => {
  it(
    'runs, keeps the database files where PostgreSQL can reach them, and uses them again next start',
    async () => {
      const first = await pnpmStart();
      let banner: string;
      try {
        await first.waitFor((output) => RUNNING.exec(output)?.[1], {
          timeoutMs: BOOT_MS,
          what: 'Corral is running',
        });
        // The banner's last line: the lines after "Corral is running" (the database files) are in.
        await first.waitFor((output) => BANNER_END.exec(output)?.[0], {
          timeoutMs: BOOT_MS,
          what: 'the end of the start banner',
        });
        banner = first.output();
      } finally {
        await stop(first);
      }
      const dataDir = DATABASE_FILES.exec(banner)?.[1];
      if (asRoot) {
        expect(dataDir, banner.slice(-3000)).toBeDefined();
        relocatedFolder = path.dirname(dataDir!);
        expect(dataDir!.startsWith(parent)).toBe(false);
        expect(existsSync(path.join(dataDir!, 'PG_VERSION'))).toBe(true);
        const postgresUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
        expect(statSync(dataDir!).uid).toBe(postgresUid);
        expect(statSync(relocatedFolder).uid).toBe(postgresUid);
      } else {
        // Not root: PostgreSQL runs as this user, who can enter the clone; the data stays in .corral/.
        expect(dataDir).toBeUndefined();
        expect(banner).toContain(
          `created a new PostgreSQL cluster in ${path.join(clone, '.corral', 'postgres')}`,
        );
      }

      const second = await pnpmStart();
      try {
        const where = dataDir ?? path.join(clone, '.corral', 'postgres');
        await second.waitFor((output) => output.includes(`using the PostgreSQL data in ${where}`), {
          timeoutMs: BOOT_MS,
          what: `using the PostgreSQL data in ${where}`,
        });
        await second.waitFor((output) => RUNNING.test(output), {
          timeoutMs: BOOT_MS,
          what: 'Corral is running',
        });
      } finally {
        await stop(second);
      }
    },
    3 * BOOT_MS,
  );
});
