// One `corral start` for the whole e2e run, started exactly the way `pnpm start` does it, in a
// temporary CORRAL_HOME on free ports. Tests get its URLs and the admin's password via inject().
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, childEnv, freePort, startTsProcess } from '@corral/test-support';
import { startIdp } from '@corral/test-support/oidc-idp';
import type { TestProject } from 'vitest/node';
import type { CorralStack } from './support/stack.js';

const WEB_DIR = path.join(REPO_ROOT, 'services/web');
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const RUNNING = /Corral is running: (http:\/\/\S+)/;
const BOOT_TIMEOUT_MS = 170_000;
const STOP_TIMEOUT_MS = 60_000;
const SSO_BUTTON_LABEL = 'Sign in with Test IdP';
const SSO_ACCOUNT = {
  login: 'sso-journey',
  claims: { email: 'sso.journey@corral.test', email_verified: true, name: 'SSO Journey', groups: ['staff'] },
};

/** Newest modification time under a directory (the SPA's sources). */
function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce(
    (newest, name) => Math.max(newest, newestMtime(path.join(target, name))),
    0,
  );
}

/**
 * web serves services/web/dist/client (its STATIC_DIR default; `corral start` does not set it).
 * A missing build, one older than the SPA's sources, or one that stopped half-way (the build
 * writes dist/client, checks the bundle budget, then dist/server) would test the wrong app.
 */
function ensureWebBuild(): void {
  const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);
  const built = mtime(path.join(WEB_DIR, 'dist/client/index.html'));
  const sources = ['src', 'index.html', 'public', 'vite.config.ts'].map((name) => path.join(WEB_DIR, name));
  const changed = Math.max(...sources.filter((file) => existsSync(file)).map(newestMtime));
  if (built >= changed) return;
  console.log(
    built === 0
      ? 'e2e: building the web app (no dist/client yet)'
      : 'e2e: rebuilding the web app (sources changed)',
  );
  const pnpm = process.env.npm_execpath;
  const [command, args] =
    pnpm && /pnpm/.test(pnpm) && /\.c?js$/.test(pnpm)
      ? [process.execPath, [pnpm, '--filter', '@corral/web', 'build:client']]
      : ['pnpm', ['--filter', '@corral/web', 'build:client']];
  // Not vitest's NODE_ENV=test: vite would build the development bundle.
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', env: shellEnv({}) });
  if (result.status !== 0) {
    throw new Error(`pnpm --filter @corral/web build:client failed:\n${result.stdout}${result.stderr}`);
  }
}

/** What a developer's shell would have for `pnpm start` / `pnpm build`: none of the test runner's settings. */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const testSettings = [
    'OLLAMA_URLS',
    'DATABASE_URL',
    'AUTH_URL',
    'CHAT_API_URL',
    'GATEWAY_URL',
    'REDIS_URL',
  ];
  return childEnv(extra, [...testSettings, 'NODE_ENV']);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(ARTIFACTS, { recursive: true });
  ensureWebBuild();

  // As root, embedded PostgreSQL runs as the postgres user, which must reach CORRAL_HOME.
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'corral-e2e-'));
  chmodSync(tempDir, 0o755);
  const home = path.join(tempDir, '.corral');
  const webPort = await freePort();
  // The company's identity provider: a real OpenID Provider with one person on it, for the SSO journey.
  const idp = await startIdp({ corralUrl: `http://localhost:${webPort}` });
  idp.accounts.set(SSO_ACCOUNT.login, SSO_ACCOUNT.claims);
  const env = shellEnv({
    CORRAL_HOME: home,
    PORT: String(webPort),
    OIDC_ISSUER_URL: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_SCOPES: 'openid email profile groups',
    OIDC_BUTTON_LABEL: SSO_BUTTON_LABEL,
    CORRAL_POSTGRES_PORT: String(await freePort()),
    // The suites register more accounts from this machine than a person would.
    REGISTRATION_MAX_PER_IP: '1000',
  });

  const corral = startTsProcess('packages/cli/src/cli.ts', ['start'], {
    name: 'corral start',
    env,
    maxOutput: Infinity,
  });
  const saveLog = () => writeFileSync(path.join(ARTIFACTS, 'corral-start.log'), corral.output());

  const teardown = async () => {
    // What Ctrl-C sends.
    const { code, signal } = await corral.stop(STOP_TIMEOUT_MS, 'SIGINT');
    saveLog();
    await idp.close();
    rmSync(tempDir, { recursive: true, force: true });
    if (signal === 'SIGKILL')
      throw new Error(`corral start did not stop within ${STOP_TIMEOUT_MS} ms of SIGINT`);
    if (code !== 0) {
      throw new Error(
        `corral start exited ${code} after SIGINT (expected 0):\n${corral.output().slice(-4000)}`,
      );
    }
  };

  try {
    const baseUrl = await corral.waitFor((output) => RUNNING.exec(output)?.[1], {
      timeoutMs: BOOT_TIMEOUT_MS,
      what: '"Corral is running"',
    });
    const state = JSON.parse(readFileSync(path.join(home, 'state.json'), 'utf8')) as {
      inference: CorralStack['inference'];
      services: Record<string, string>;
    };
    const secrets = JSON.parse(readFileSync(path.join(home, 'secrets.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const gatewayUrl = state.services['inference-gateway'];
    if (!gatewayUrl)
      throw new Error(`state.json names no inference-gateway: ${JSON.stringify(state.services)}`);
    if (state.inference.kind !== 'simulator') {
      throw new Error(
        `the e2e suite expects ollama-sim, but corral start chose ${state.inference.label}: stop the Ollama on 127.0.0.1:11434 (or unset OLLAMA_URLS) for this run`,
      );
    }
    const gatewayToken = typeof secrets.gatewayServiceToken === 'string' ? secrets.gatewayServiceToken : null;
    const stack: CorralStack = {
      baseUrl: baseUrl.replace(/\/+$/, ''),
      admin: {
        email: /Admin: (\S+@\S+)/.exec(corral.output())?.[1] ?? 'admin@corral.local',
        password: readFileSync(path.join(home, 'admin-password'), 'utf8').trim(),
      },
      gatewayUrl,
      gatewayToken,
      inference: state.inference,
      home,
      artifactsDir: ARTIFACTS,
      sso: {
        issuer: idp.issuer,
        buttonLabel: SSO_BUTTON_LABEL,
        login: SSO_ACCOUNT.login,
        email: SSO_ACCOUNT.claims.email,
      },
    };
    project.provide('corral', stack);
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  return teardown;
}
