import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const NODE_ARGS = ['--conditions=corral-source', '--import', 'tsx', CLI];
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A CORRAL_HOME the postgres OS user can reach (mkdtemp makes 0700 directories). */
export function tempHome(): { home: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-cli-test-'));
  chmodSync(dir, 0o755);
  const home = path.join(dir, '.corral');
  return { home, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  // The test runner's own settings must not leak into the services.
  for (const key of ['OLLAMA_URLS', 'DATABASE_URL', 'AUTH_URL', 'REDIS_URL', 'NODE_OPTIONS']) delete env[key];
  return env;
}

/** `corral start` as a real process; `output` grows as it writes. */
export class CorralRun {
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.child = spawn(process.execPath, [...NODE_ARGS, 'start', ...args], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves when `pattern` appears; rejects with the output if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.output.match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const onExit = () => {
        check();
        cleanup();
        reject(new Error(`corral exited before ${pattern}; output:\n${this.output}`));
      };
      const cleanup = () => {
        this.child.stdout?.off('data', check);
        this.child.off('exit', onExit);
      };
      this.child.stdout?.on('data', check);
      this.child.once('exit', onExit);
      check();
    });
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
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
