/**
 * Auth: access-token verifications/s through @corral/auth-client (JWKS fetched once, then cached)
 * vs jose's jwtVerify with the same key imported locally; logins/s against the auth service
 * (scrypt at its configured cost) vs /healthz on the same server stack, both driven by wrk.
 */
import { execFile } from 'node:child_process';
import { scrypt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { INTERNAL_SERVICE_TOKEN, REDIS_URL, signIn } from '../lib/corral.js';
import { databaseUrl, dropDatabase, recreateDatabase } from '../lib/db.js';
import { jsonRequest } from '../lib/http.js';
import { cpuSeconds } from '../lib/proc.js';
import { RUN_FROM, type RunningProcess, startService } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round } from '../lib/stats.js';
import { printTable } from '../lib/table.js';
import { createAuthenticator, jose } from '../lib/workspace.js';

const DATABASE = 'corral_bench_auth';
const VERIFY_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 8);
const SCRYPT_LOG_N = 15; // auth's default PASSWORD_SCRYPT_LOG_N, which this bench leaves as configured
const WRK_CONNECTIONS = 16;
const run = promisify(execFile);

/** Verifications per second with `concurrency` verifications in flight. */
async function opsPerSecond(concurrency: number, verify: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await verify(); // warm-up (JIT, key import caches)
  let done = 0;
  const end = performance.now() + VERIFY_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await verify();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** The floor under logins/s: bare scrypt hashes/s at auth's cost, 4 in flight (libuv's default pool). */
async function scryptPerSecond(seconds: number): Promise<number> {
  const N = 2 ** SCRYPT_LOG_N;
  const once = () =>
    new Promise<void>((resolve, reject) =>
      scrypt(
        'bench-password-0123',
        Buffer.alloc(16, 1),
        64,
        { N, r: 8, p: 1, maxmem: 256 * N * 8 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  let done = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < end) {
        await once();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

interface WrkResult {
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: string | null;
}

const toMs = (value: string): number => {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!match) return Number.NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : match[2] === 'm' ? n * 60_000 : n;
};

async function wrk(url: string, script?: string): Promise<WrkResult> {
  const args = [
    '-t2',
    `-c${WRK_CONNECTIONS}`,
    `-d${WRK_SECONDS}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ];
  const { stdout } = await run('wrk', args, { timeout: (WRK_SECONDS + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /\s50%\s+(\S+)/.exec(stdout);
  const p99 = /\s99%\s+(\S+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socketErrors = /Socket errors:[^\n]*/.exec(stdout);
  if (!rps) throw new Error(`could not read wrk output:\n${stdout}`);
  return {
    requestsPerSecond: Number(rps[1]),
    latencyMs: { p50: toMs(p50?.[1] ?? ''), p99: toMs(p99?.[1] ?? '') },
    non2xx: Number(non2xx?.[1] ?? 0),
    errors: socketErrors?.[0] ?? null,
  };
}

async function main(): Promise<void> {
  console.log(`auth: services from ${RUN_FROM}`);
  await recreateDatabase(DATABASE);
  let auth: RunningProcess | undefined;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'corral-bench-auth-'));
  try {
    auth = await startService('auth', {
      DATABASE_URL: databaseUrl(DATABASE, 'auth'),
      AUTO_MIGRATE: 'true',
      REDIS_URL,
      REDIS_KEY_PREFIX: `bench:auth:${process.pid}:`,
      INTERNAL_SERVICE_TOKEN,
      DEFAULT_USER_STATUS: 'active',
      COOKIE_SECURE: 'false',
      // Every wrk connection comes from 127.0.0.1: keep the per-IP throttle out of the way.
      LOGIN_MAX_FAILURES_PER_IP: '1000000',
      REGISTRATION_MAX_PER_IP: '1000000',
      REGISTRATION_MAX_GLOBAL: '1000000',
    });
    const user = await signIn(auth.url, 'auth-bench@bench.local');
    const token = user.accessToken;

    // --- verification, in this process ---
    const authenticator = createAuthenticator({
      jwksUrl: `${auth.url}/.well-known/jwks.json`,
      issuer: 'corral-auth',
      audience: 'corral',
      introspectionUrl: `${auth.url}/api/auth/introspect`,
      serviceToken: INTERNAL_SERVICE_TOKEN,
      logger: {
        debug: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    await authenticator.verifyAccessToken(token); // fetches and caches the JWKS

    const { body: jwks } = await jsonRequest<{ keys: Array<Record<string, unknown>> }>(
      'GET',
      `${auth.url}/.well-known/jwks.json`,
    );
    const kid = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      kid: string;
    };
    const jwk = jwks.keys.find((k) => k.kid === kid.kid);
    if (!jwk) throw new Error('token kid not in the JWKS');
    const key = await jose.importJWK(jwk, 'RS256');
    const joseOptions = {
      algorithms: ['RS256'],
      issuer: 'corral-auth',
      audience: 'corral',
      requiredClaims: ['sub', 'role', 'exp', 'iat', 'jti'],
      clockTolerance: 5,
    };
    const verifyRows: Array<[string, number, number, number]> = [];
    const verifyJson = [];
    for (const concurrency of [1, 64]) {
      const viaClient = await opsPerSecond(concurrency, () => authenticator.verifyAccessToken(token));
      const viaJose = await opsPerSecond(concurrency, () => jose.jwtVerify(token, key, joseOptions));
      verifyRows.push([
        `in flight ${concurrency}`,
        round(viaJose),
        round(viaClient),
        round(viaClient / viaJose),
      ]);
      verifyJson.push({
        concurrency,
        joseLocalKeyPerSecond: round(viaJose),
        authClientPerSecond: round(viaClient),
      });
    }
    printTable(
      `JWT (RS256) verifications/s in one process, ${VERIFY_SECONDS} s each`,
      ['', 'jose local key', 'auth-client', 'ratio'],
      verifyRows,
    );

    // --- logins, over HTTP with wrk ---
    const loginScript = path.join(scratch, 'login.lua');
    writeFileSync(
      loginScript,
      `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${JSON.stringify({ email: user.email, password: user.password })}'\n`,
    );
    const cpuBefore = cpuSeconds(auth.pid);
    const healthz = await wrk(`${auth.url}/healthz`);
    const cpuAfterHealthz = cpuSeconds(auth.pid);
    const login = await wrk(`${auth.url}/api/auth/login`, loginScript);
    const cpuAfterLogin = cpuSeconds(auth.pid);
    const scryptRate = await scryptPerSecond(WRK_SECONDS);
    printTable(
      `auth service over HTTP: wrk, ${WRK_CONNECTIONS} connections, ${WRK_SECONDS} s each (scrypt log N = ${SCRYPT_LOG_N}, the default)`,
      ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'auth CPU%'],
      [
        [
          'GET /healthz (baseline)',
          healthz.requestsPerSecond,
          healthz.latencyMs.p50,
          healthz.latencyMs.p99,
          healthz.non2xx,
          round(((cpuAfterHealthz - cpuBefore) / WRK_SECONDS) * 100),
        ],
        [
          'POST /api/auth/login',
          login.requestsPerSecond,
          login.latencyMs.p50,
          login.latencyMs.p99,
          login.non2xx,
          round(((cpuAfterLogin - cpuAfterHealthz) / WRK_SECONDS) * 100),
        ],
        ['bare scrypt in-process, 4 in flight (floor)', round(scryptRate), null, null, null, null],
      ],
    );
    writeResults('auth', {
      runFrom: RUN_FROM,
      verify: { seconds: VERIFY_SECONDS, results: verifyJson },
      http: {
        tool: 'wrk',
        connections: WRK_CONNECTIONS,
        seconds: WRK_SECONDS,
        scryptLogN: SCRYPT_LOG_N,
        healthz,
        login,
      },
      bareScryptPerSecond: round(scryptRate),
    });
  } finally {
    await auth?.stop();
    rmSync(scratch, { recursive: true, force: true });
    await dropDatabase(DATABASE).catch(() => undefined);
  }
}

await main();
