// Starts the real services for the browser journey: ollama-sim, auth, chat-api and the web
// server (local mode), each as its own process on a free port, in fresh Postgres schemas.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const ADMIN = { email: 'admin@corral.test', password: 'admin-password-123' };
const SERVICE_TOKEN = 'journey-internal-service-token-0123456789abcdef';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function waitForReady(
  url: string,
  child: ChildProcess,
  name: string,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} not ready at ${url} within 60 s:\n${log()}`);
}

function start(name: string, script: string, env: Record<string, string>, cwd: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=corral-source', script, ...(env.ARGS?.split(' ') ?? [])],
    {
      cwd,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, log: () => output.slice(-4000) };
}

export interface Stack {
  webUrl: string;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const suffix = randomBytes(4).toString('hex');
  const schemas = { auth: `web_journey_auth_${suffix}`, chat: `web_journey_chat_${suffix}` };
  const [simPort, authPort, chatPort, webPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const children: ChildProcess[] = [];
  try {
    // Slow enough that a person (or this test) can press Stop mid-reply.
    const sim = start(
      'ollama-sim',
      'src/cli.ts',
      {
        ARGS: `--port ${simPort} --models llama3.2,nomic-embed-text --tokens-per-second 12 --response-tokens 400`,
      },
      path.join(repo, 'packages/ollama-sim'),
    );
    children.push(sim.child);
    await waitForReady(`http://127.0.0.1:${simPort}/api/version`, sim.child, 'ollama-sim', sim.log);

    const auth = start(
      'auth',
      'src/index.ts',
      {
        PORT: String(authPort),
        DATABASE_URL: `${DATABASE_URL}?schema=${schemas.auth}`,
        AUTO_MIGRATE: 'true',
        COOKIE_SECURE: 'false',
        PASSWORD_SCRYPT_LOG_N: '10',
        INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        DEFAULT_USER_STATUS: 'pending',
      },
      path.join(repo, 'services/auth'),
    );
    children.push(auth.child);
    await waitForReady(`http://127.0.0.1:${authPort}/readyz`, auth.child, 'auth', auth.log);

    const chat = start(
      'chat-api',
      'src/index.ts',
      {
        PORT: String(chatPort),
        DATABASE_URL: `${DATABASE_URL}?schema=${schemas.chat}`,
        AUTO_MIGRATE: 'true',
        AUTH_URL: `http://127.0.0.1:${authPort}`,
        GATEWAY_URL: `http://127.0.0.1:${simPort}`,
        INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
        DEFAULT_MODEL: 'llama3.2',
      },
      path.join(repo, 'services/chat-api'),
    );
    children.push(chat.child);
    await waitForReady(`http://127.0.0.1:${chatPort}/readyz`, chat.child, 'chat-api', chat.log);

    const web = start(
      'web',
      'server/index.ts',
      {
        PORT: String(webPort),
        AUTH_URL: `http://127.0.0.1:${authPort}`,
        CHAT_API_URL: `http://127.0.0.1:${chatPort}`,
        GATEWAY_URL: `http://127.0.0.1:${simPort}`,
      },
      path.join(repo, 'services/web'),
    );
    children.push(web.child);
    await waitForReady(`http://127.0.0.1:${webPort}/readyz`, web.child, 'web', web.log);

    return {
      webUrl: `http://127.0.0.1:${webPort}`,
      close: () => stopAll(children, schemas),
    };
  } catch (error) {
    await stopAll(children, schemas);
    throw error;
  }
}

async function stopAll(children: ChildProcess[], schemas: Record<string, string>): Promise<void> {
  await Promise.all(
    children.reverse().map(async (child) => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    }),
  );
  // psql rather than a pg dependency: the web package has no database client of its own.
  const drops = Object.values(schemas).map((schema) => `DROP SCHEMA IF EXISTS "${schema}" CASCADE;`);
  await promisify(execFile)('psql', [DATABASE_URL, '-q', '-c', drops.join(' ')]).catch((error: unknown) => {
    console.warn('could not drop journey schemas', error);
  });
}
