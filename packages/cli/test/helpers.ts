import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  childEnv as childEnvWithout,
  freePort,
  REPO_ROOT,
  startTsProcess,
  type TestProcess,
} from '@corral/test-support';

export { freePort };

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const NODE_ARGS = ['--conditions=corral-source', '--import', 'tsx', CLI];

/** A CORRAL_HOME the postgres OS user can reach (mkdtemp makes 0700 directories). */
export function tempHome(): { home: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-cli-test-'));
  chmodSync(dir, 0o755);
  const home = path.join(dir, '.corral');
  return { home, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestEnv {
  CORRAL_HOME: string;
  PORT: string;
  CORRAL_POSTGRES_PORT: string;
}

export async function testEnv(home: string): Promise<TestEnv> {
  return {
    CORRAL_HOME: home,
    PORT: String(await freePort()),
    CORRAL_POSTGRES_PORT: String(await freePort()),
  };
}

/** The test runner's own settings must not leak into the services. */
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv =>
  childEnvWithout(extra, ['OLLAMA_URLS', 'DATABASE_URL', 'AUTH_URL', 'REDIS_URL']);

/** `corral start` as a real process; `output` grows as it writes. */
export class CorralRun {
  private readonly process: TestProcess;
  /** Its exit code. */
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.process = startTsProcess(CLI, ['start', ...args], { name: 'corral start', env: childEnv(env) });
    this.exited = this.process.exited.then((status) => status.code);
  }

  get child() {
    return this.process.child;
  }

  get output(): string {
    return this.process.output();
  }

  /** Resolves when `pattern` appears; rejects with the output if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.process.waitFor((output) => output.match(pattern), { what: String(pattern) });
  }

  /** Ctrl-C (SIGINT), then its exit code. */
  async stop(): Promise<number | null> {
    if (this.process.isAlive()) this.process.child.kill('SIGINT');
    return this.exited;
  }
}

export interface RunState {
  databaseUrl: string;
  services: Record<string, string>;
  pids: Record<string, number>;
}

export const readState = (home: string): RunState =>
  JSON.parse(readFileSync(path.join(home, 'state.json'), 'utf8')) as RunState;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `corral <args>` as a process, against the run in `home`. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, ...args],
      { cwd: REPO_ROOT, env: childEnv(env), timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
