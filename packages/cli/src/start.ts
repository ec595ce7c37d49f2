import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { CliError, errorMessage } from './errors.js';
import { chooseInference, type Inference } from './inference.js';
import {
  ADMIN_EMAIL,
  clearRunState,
  loadOrCreateAdminPassword,
  loadOrCreateSecrets,
  writeRunState,
} from './local-state.js';
import { acquireLock, releaseLock } from './lock.js';
import { LogSink } from './log-sink.js';
import { serviceRuntimeEnv } from './node-runtime.js';
import { corralPaths } from './paths.js';
import { freePort, isPortFree, preferredOrFreePort } from './ports.js';
import { EmbeddedPostgres } from './postgres.js';
import {
  SERVICES,
  type ServiceName,
  ensurePrismaClient,
  ensureWebClient,
  nodeArgsFor,
  whyNotRunnable,
} from './services.js';
import { ServiceProcess } from './supervisor.js';

export interface StartOptions {
  json: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Variables corral sets for the services; inherited values would point them elsewhere. */
const MANAGED_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'AUTH_URL',
  'CHAT_API_URL',
  'GATEWAY_URL',
  'OLLAMA_URLS',
  'AUTO_MIGRATE',
  'BOOTSTRAP_ADMIN_EMAIL',
  'BOOTSTRAP_ADMIN_PASSWORD',
  'BOOTSTRAP_ADMIN_API_KEY',
  'GATEWAY_SERVICE_TOKEN',
  // A mounted-secret variant left in the shell would clash with the value corral passes.
  'SIGNING_KEY_SECRET_FILE',
  'INTERNAL_SERVICE_TOKEN_FILE',
  'GATEWAY_SERVICE_TOKEN_FILE',
  'STATIC_DIR',
  'NODE_OPTIONS',
];
/** Services that may still be missing from a checkout (work in progress): skipped with a warning. */
const OPTIONAL: ServiceName[] = ['chat-api', 'web'];

const intFrom = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) {
    throw new CliError(`${name} must be a port number, got "${value}"`, 2);
  }
  return number;
};

/** A duration in milliseconds (whole, positive, at most a day); 0 or junk is a usage error. */
export const msFrom = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1 || number > 86_400_000) {
    throw new CliError(`${name} must be a time in milliseconds (1 to 86400000), got "${value}"`, 2);
  }
  return number;
};

/** `corral start`: everything on this machine; resolves with the exit code once stopped. */
export async function startCorral(options: StartOptions): Promise<number> {
  const env = options.env ?? process.env;
  const sink = new LogSink({ json: options.json, colour: Boolean(process.stdout.isTTY) && !env.NO_COLOR });
  // Read before anything starts, so a bad value is a usage error, not a surprise at Ctrl-C.
  const timeoutMs = msFrom(env.CORRAL_START_TIMEOUT_MS, 120_000, 'CORRAL_START_TIMEOUT_MS');
  const stopMs = msFrom(env.CORRAL_STOP_TIMEOUT_MS, 10_000, 'CORRAL_STOP_TIMEOUT_MS');
  const paths = corralPaths();
  mkdirSync(paths.home, { recursive: true, mode: 0o755 });
  const lock = acquireLock(paths.lock);
  if (lock.staleFrom !== undefined) {
    sink.say(
      `found a stale lock from pid ${lock.staleFrom}, which is no longer running; taking it over`,
      'warn',
    );
  }

  let stopRequested = false;
  let forced = false;
  let wakeMain: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    wakeMain = resolve;
  });
  const children: ServiceProcess[] = [];
  let postgres: EmbeddedPostgres | undefined;
  let inference: Inference | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      // A second Ctrl-C: stop waiting for anyone.
      forced = true;
      sink.say(`${signal} again: killing everything now`, 'warn');
      for (const child of children) child.kill();
      return;
    }
    stopRequested = true;
    sink.say(`${signal} received: stopping Corral`);
    wakeMain();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let exitCode = 0;
  try {
    const webPort = intFrom(env.PORT, 3000, 'PORT');
    if (!(await isPortFree(webPort)) || !(await isPortFree(webPort, '127.0.0.1'))) {
      throw new CliError(`port ${webPort} is in use — set PORT=… to use another one`);
    }
    const secrets = loadOrCreateSecrets(paths);
    const admin = loadOrCreateAdminPassword(paths);

    // PostgreSQL
    const pgPort = env.CORRAL_POSTGRES_PORT
      ? intFrom(env.CORRAL_POSTGRES_PORT, 5433, 'CORRAL_POSTGRES_PORT')
      : await preferredOrFreePort(5433);
    if (env.CORRAL_POSTGRES_PORT && !(await isPortFree(pgPort, '127.0.0.1'))) {
      throw new CliError(`port ${pgPort} is in use — set CORRAL_POSTGRES_PORT=… to use another one`);
    }
    postgres = new EmbeddedPostgres({
      paths,
      port: pgPort,
      password: secrets.postgresPassword,
      onLog: (line) => sink.line('postgres', line),
    });
    const orphan = await postgres.stopOrphan();
    if (orphan !== undefined)
      sink.say(`stopped a PostgreSQL left running by an earlier run (pid ${orphan})`, 'warn');
    if (postgres.initialise()) sink.say(`created a new PostgreSQL cluster in ${postgres.dataDir}`);
    else sink.say(`using the PostgreSQL data in ${postgres.dataDir}`);
    await postgres.start();
    sink.say(`PostgreSQL is ready on 127.0.0.1:${pgPort}, database corral`);
    if (stopRequested) return 0;

    // Inference
    inference = await chooseInference(env);
    sink.banner(`Inference: ${inference.label}`, { inference: inference.kind, urls: inference.urls });
    // OIDC_* and PASSWORD_LOGIN_ENABLED reach auth from this shell unchanged (they are not managed here).
    if (env.OIDC_ISSUER_URL) {
      sink.say(
        `Single sign-on: ${env.OIDC_ISSUER_URL}; the redirect URI to register there is http://localhost:${webPort}/api/auth/oidc/callback`,
      );
    }
    if (env.REDIS_URL) sink.say('Redis: REDIS_URL is set; auth and chat-api use it');
    else sink.say('Redis: not used (in-process rate limits and stop signals; fine for one machine)');

    // Services
    const runnable = (Object.keys(SERVICES) as ServiceName[]).filter((name) => {
      const why = whyNotRunnable(SERVICES[name]);
      if (!why) return true;
      if (!OPTIONAL.includes(name)) throw new CliError(`${name} cannot run: ${why}`);
      sink.say(`skipping ${name}: ${why}`, 'warn');
      return false;
    });
    const skipped = (env.CORRAL_SKIP ?? '').split(',').map((name) => name.trim());
    const toRun = runnable.filter((name) => {
      if (!skipped.includes(name)) return true;
      if (!OPTIONAL.includes(name)) throw new CliError(`CORRAL_SKIP: ${name} cannot be skipped`, 2);
      sink.say(`skipping ${name} (CORRAL_SKIP)`, 'warn');
      return false;
    });
    for (const name of toRun) ensurePrismaClient(SERVICES[name], (line) => sink.say(line));
    if (toRun.includes('web')) ensureWebClient(SERVICES.web, (line) => sink.say(line));

    const ports: Record<ServiceName, number> = {
      'inference-gateway': await freePort(),
      auth: await freePort(),
      'chat-api': await freePort(),
      web: webPort,
    };
    const local = (name: ServiceName) => `http://127.0.0.1:${ports[name]}`;
    const databaseUrl = (schema: string) => `${postgres?.url ?? ''}?schema=${schema}`;
    const base: NodeJS.ProcessEnv = { ...env };
    for (const key of MANAGED_VARIABLES) delete base[key];
    Object.assign(base, {
      NODE_ENV: env.CORRAL_NODE_ENV ?? 'development',
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: env.SHUTDOWN_GRACE_MS ?? '5000',
      INTERNAL_SERVICE_TOKEN: secrets.internalServiceToken,
      CORRAL_INFERENCE_LABEL: inference.label,
      CORRAL_INFERENCE_KIND: inference.kind,
      // The Node/malloc settings of the image and the chart (docs/operations.md, "Memory").
      ...serviceRuntimeEnv(env),
    });
    const envFor: Record<ServiceName, NodeJS.ProcessEnv> = {
      'inference-gateway': {
        ...base,
        PORT: String(ports['inference-gateway']),
        OLLAMA_URLS: inference.urls.join(','),
        // Required of every caller (chat-api sends it); admins' access tokens also open /admin/*.
        GATEWAY_SERVICE_TOKEN: secrets.gatewayServiceToken,
        AUTH_URL: local('auth'),
      },
      auth: {
        ...base,
        PORT: String(ports.auth),
        DATABASE_URL: databaseUrl('auth'),
        AUTO_MIGRATE: 'true',
        SIGNING_KEY_SECRET: secrets.signingKeySecret,
        BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        COOKIE_SECURE: 'false',
        // Behind the web proxy on this machine: believe its X-Forwarded-For, so sign-in
        // throttling counts each client, not everyone as 127.0.0.1.
        TRUST_PROXY: 'loopback',
        // The address browsers use: discovery URLs and the same-origin check of refresh/logout.
        PUBLIC_URL: `http://localhost:${webPort}`,
      },
      'chat-api': {
        ...base,
        PORT: String(ports['chat-api']),
        DATABASE_URL: databaseUrl('chat'),
        AUTO_MIGRATE: 'true',
        AUTH_URL: local('auth'),
        GATEWAY_URL: local('inference-gateway'),
        GATEWAY_SERVICE_TOKEN: secrets.gatewayServiceToken,
      },
      web: {
        ...base,
        HOST: env.HOST ?? '0.0.0.0',
        PORT: String(webPort),
        AUTH_URL: local('auth'),
        GATEWAY_URL: local('inference-gateway'),
        ...(toRun.includes('chat-api') ? { CHAT_API_URL: local('chat-api') } : {}),
      },
    };
    // Dependencies first: chat-api needs auth's keys and the gateway; web proxies to both.
    const phases: ServiceName[][] = [
      ['inference-gateway', 'auth'],
      ['chat-api', 'web'],
    ];
    for (const phase of phases) {
      const started = phase
        .filter((name) => toRun.includes(name))
        .map((name) => {
          const spec = SERVICES[name];
          const child = new ServiceProcess(spec.label, local(name), sink);
          children.push(child);
          child.start(nodeArgsFor(spec.dir, spec.sourceEntry, spec.builtEntry) ?? [], {
            cwd: spec.dir,
            env: envFor[name],
          });
          return child;
        });
      const results = await Promise.all(
        started.map((child) => child.waitReady(timeoutMs, () => stopRequested)),
      );
      if (stopRequested) return 0;
      const failed = started.filter((_, index) => !results[index]);
      if (failed.length > 0) {
        const lines = failed.map((child) => {
          const what = child.hasExited ? child.describeExit() : `was not ready after ${timeoutMs} ms`;
          const tail = child.recent.slice(-12).join('\n    ');
          return `${child.label} ${what} during start-up; its last lines:\n    ${tail}`;
        });
        throw new CliError(`${lines.join('\n')}\nstopping everything`);
      }
    }

    writeRunState(paths, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      databaseUrl: postgres.url,
      postgresPort: pgPort,
      inference: { kind: inference.kind, label: inference.label, urls: inference.urls },
      services: Object.fromEntries(toRun.map((name) => [name, local(name)])),
      pids: Object.fromEntries(
        [
          ...children.map((child) => [child.label, child.pid] as const),
          ['postgres', postgres.pid] as const,
        ].filter((entry): entry is readonly [string, number] => entry[1] !== undefined),
      ),
    });
    const missing = (Object.keys(SERVICES) as ServiceName[]).filter((name) => !toRun.includes(name));
    sink.banner('');
    sink.banner(`Corral is running: http://localhost:${webPort}`, { url: `http://localhost:${webPort}` });
    sink.banner(`  Inference: ${inference.label}`);
    if (postgres.relocated) {
      // The postgres OS user cannot enter the checkout (a 0700 parent): its files live here instead.
      sink.banner(`  Database files: ${postgres.dataDir} (reused on the next start)`, {
        postgresData: postgres.dataDir,
      });
    }
    // Shown once: on the first run that gets this far (a failed first start keeps it unshown).
    const shownMarker = `${paths.adminPassword}.shown`;
    if (admin.created || !existsSync(shownMarker)) {
      sink.banner(`  Admin: ${ADMIN_EMAIL}  password: ${admin.password}`, { email: ADMIN_EMAIL });
      sink.banner(`  (shown once; also saved in ${paths.adminPassword})`);
      writeFileSync(shownMarker, `${new Date().toISOString()}\n`);
    } else {
      sink.banner(`  Admin: ${ADMIN_EMAIL}  (password in ${paths.adminPassword})`, { email: ADMIN_EMAIL });
    }
    if (missing.length > 0) sink.banner(`  Not running: ${missing.join(', ')} (see the warnings above)`);
    sink.banner('  Ctrl-C stops everything.');
    sink.banner('');

    const exited = await Promise.race([
      stopSignal.then(() => undefined),
      ...children.map((child) => child.exited.then(() => child)),
    ]);
    if (exited && !stopRequested) {
      sink.say(`${exited.label} ${exited.describeExit()}; stopping Corral`, 'error');
      exitCode = 1;
    }
    return exitCode;
  } catch (error) {
    if (error instanceof CliError) {
      sink.say(error.message, 'error');
      exitCode = error.exitCode;
    } else {
      sink.say(`start-up failed: ${errorMessage(error)}`, 'error');
      exitCode = 1;
    }
    return exitCode;
  } finally {
    // Services first (they hold connections), then the simulator, then PostgreSQL.
    await Promise.all([...children].reverse().map((child) => child.stop(forced ? 0 : stopMs)));
    await inference?.sim?.close();
    await postgres?.stop(forced ? 1000 : 30_000);
    clearRunState(paths);
    releaseLock(paths.lock);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    sink.say(exitCode === 0 ? 'stopped' : 'stopped after an error');
  }
}
