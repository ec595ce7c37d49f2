import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';
import { REPO_ROOT } from './paths.js';

export type ServiceName = 'inference-gateway' | 'auth' | 'chat-api' | 'web';

export interface ServiceSpec {
  name: ServiceName;
  /** The log prefix. */
  label: string;
  dir: string;
  /** TypeScript entry (run with tsx) and the built one, relative to dir. */
  sourceEntry: string;
  builtEntry: string;
  /** A service with a Prisma schema needs `prisma generate` before it runs from source. */
  prisma: boolean;
}

export const SERVICES: Record<ServiceName, ServiceSpec> = {
  'inference-gateway': {
    name: 'inference-gateway',
    label: 'gateway',
    dir: path.join(REPO_ROOT, 'services/inference-gateway'),
    sourceEntry: 'src/index.ts',
    builtEntry: 'dist/index.js',
    prisma: false,
  },
  auth: {
    name: 'auth',
    label: 'auth',
    dir: path.join(REPO_ROOT, 'services/auth'),
    sourceEntry: 'src/index.ts',
    builtEntry: 'dist/index.js',
    prisma: true,
  },
  'chat-api': {
    name: 'chat-api',
    label: 'chat-api',
    dir: path.join(REPO_ROOT, 'services/chat-api'),
    sourceEntry: 'src/index.ts',
    builtEntry: 'dist/index.js',
    prisma: true,
  },
  web: {
    name: 'web',
    label: 'web',
    dir: path.join(REPO_ROOT, 'services/web'),
    sourceEntry: 'server/index.ts',
    builtEntry: 'dist/server/index.js',
    prisma: false,
  },
};

/** `node` arguments that run a TypeScript or built file: source first (dev), dist otherwise. */
export function nodeArgsFor(dir: string, sourceEntry: string, builtEntry: string): string[] | undefined {
  const source = path.join(dir, sourceEntry);
  if (existsSync(source) && existsSync(path.join(REPO_ROOT, 'node_modules/tsx'))) {
    return ['--conditions=corral-source', '--import', 'tsx', source];
  }
  const built = path.join(dir, builtEntry);
  return existsSync(built) ? [built] : undefined;
}

/** Why a service cannot run from this checkout, or undefined when it can. */
export function whyNotRunnable(spec: ServiceSpec): string | undefined {
  if (!existsSync(path.join(spec.dir, 'package.json'))) return `${spec.dir} does not exist`;
  if (!nodeArgsFor(spec.dir, spec.sourceEntry, spec.builtEntry)) {
    return `neither ${spec.sourceEntry} nor ${spec.builtEntry} exists in ${path.relative(REPO_ROOT, spec.dir)}`;
  }
  if (!existsSync(path.join(spec.dir, 'node_modules')))
    return `its dependencies are not installed (pnpm install)`;
  return undefined;
}

const mtime = (file: string): number => (existsSync(file) ? statSync(file).mtimeMs : 0);

/** Runs the service's `generate` script when its Prisma client is missing or older than the schema. */
/** Runs a package script with the pnpm that runs us (or pnpm on PATH); throws with its last lines. */
function runPnpmScript(dir: string, script: string, what: string, env?: NodeJS.ProcessEnv): void {
  const pnpm = process.env.npm_execpath;
  const [command, args] =
    pnpm && /pnpm/.test(pnpm) && /\.c?js$/.test(pnpm)
      ? [process.execPath, [pnpm, 'run', script]]
      : ['pnpm', ['run', script]];
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8', ...(env ? { env } : {}) });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n  ');
    throw new CliError(`${what} failed:\n  ${output}`);
  }
}

export function ensurePrismaClient(spec: ServiceSpec, onNote: (line: string) => void): void {
  if (!spec.prisma) return;
  const client = path.join(spec.dir, 'src/generated/prisma/client.ts');
  const schema = path.join(spec.dir, 'prisma/schema.prisma');
  if (!existsSync(path.join(spec.dir, spec.sourceEntry))) return; // built: dist carries its client
  if (existsSync(client) && mtime(client) >= mtime(schema)) return;
  onNote(`generating the Prisma client of ${spec.name} (prisma generate)`);
  runPnpmScript(spec.dir, 'generate', `prisma generate for ${spec.name}`);
}

/** A fresh clone has no built web app: build the browser assets once (the server itself runs from source). */
export function ensureWebClient(spec: ServiceSpec, onNote: (line: string) => void): void {
  if (existsSync(path.join(spec.dir, 'dist/client/index.html'))) return;
  onNote('building the web app (first run only; pnpm --filter @corral/web build:client)');
  const { NODE_ENV: _testOrDev, ...env } = process.env; // a production bundle, whatever NODE_ENV says
  runPnpmScript(spec.dir, 'build:client', 'building the web app', env);
}
