import { spawn } from 'node:child_process';
import path from 'node:path';
import { CliError } from './errors.js';
import { REPO_ROOT } from './paths.js';
import { nodeArgsFor } from './services.js';

function workspaceCliArgs(dir: string, sourceEntry: string, builtEntry: string): string[] {
  const nodeArgs = nodeArgsFor(dir, sourceEntry, builtEntry);
  if (!nodeArgs) {
    throw new CliError(`${path.relative(REPO_ROOT, dir)} has neither ${sourceEntry} nor ${builtEntry}`);
  }
  return nodeArgs;
}

/** Runs a workspace CLI (from source with tsx, else its dist/) with stdio passed through; resolves its exit code. */
export function runWorkspaceCli(
  dir: string,
  sourceEntry: string,
  builtEntry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const nodeArgs = workspaceCliArgs(dir, sourceEntry, builtEntry);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: dir, env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Like runWorkspaceCli, but stdout is captured (for CLIs that answer in JSON); stderr passes through. */
export function captureWorkspaceCli(
  dir: string,
  sourceEntry: string,
  builtEntry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string }> {
  const nodeArgs = workspaceCliArgs(dir, sourceEntry, builtEntry);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout }));
  });
}

export const AUTH_DIR = path.join(REPO_ROOT, 'services/auth');
export const CHAT_DIR = path.join(REPO_ROOT, 'services/chat-api');
export const DB_MIGRATE_DIR = path.join(REPO_ROOT, 'packages/db-migrate');

export const runAuthCli = (args: string[], env: NodeJS.ProcessEnv): Promise<number> =>
  runWorkspaceCli(AUTH_DIR, 'src/cli.ts', 'dist/cli.js', args, env);

/** chat-api's maintenance CLI (`migrate`, `retention`, `sweep`); it prints one JSON line. */
export const runChatCli = (
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string }> =>
  captureWorkspaceCli(CHAT_DIR, 'src/cli.ts', 'dist/cli.js', args, env);

export const runDbMigrateCli = (args: string[], env: NodeJS.ProcessEnv): Promise<number> =>
  runWorkspaceCli(DB_MIGRATE_DIR, 'src/cli.ts', 'dist/cli.js', args, env);
