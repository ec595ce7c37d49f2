import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { baseEnvShape, createHttpApp, createLogger, createServiceKit, loadConfig } from '@corral/service-kit';
import type { Express } from 'express';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import {
  type Authenticator,
  type AuthenticatorOptions,
  createAuthenticator,
  requireRole,
} from '../src/index.js';

export const ISSUER = 'https://corral.test/auth';
export const AUDIENCE = 'corral-api';
export const SERVICE_TOKEN = 'internal-service-token-for-tests-0123456789';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A URL where nothing listens: a server is opened to get a free port, then closed. */
export async function unusedUrl(path: string): Promise<string> {
  const server = createServer();
  const base = await listen(server);
  await close(server);
  return `${base}${path}`;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function makeSigningKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

export interface TokenClaims {
  iss?: string;
  aud?: string;
  sub?: string;
  email?: string;
  role?: string;
  jti?: string;
  iat?: number;
  exp?: number;
}

/** Signs an access token the way auth does; a claim set to `undefined` in `overrides` is left out. */
export function signAccessToken(key: SigningKey, overrides: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    email: 'ada@example.com',
    role: 'user',
    jti: randomUUID(),
    iat: now,
    exp: now + 900,
    ...overrides,
  };
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
}

export const base64url = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

/** Serves a JWKS that tests can rotate or break, and counts fetches. */
export async function startJwksServer(keys: JWK[]) {
  let served = keys;
  let failStatus: number | undefined;
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    fetches += 1;
    if (failStatus !== undefined) {
      res.writeHead(failStatus).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: served }));
  });
  const base = await listen(server);
  return {
    url: `${base}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    setKeys(next: JWK[]) {
      served = next;
    },
    failWith(status: number | undefined) {
      failStatus = status;
    },
    close: () => close(server),
  };
}

type IntrospectionMode = 'normal' | 'server-error' | 'reset-once';

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return JSON.parse(body) as unknown;
}

/** Auth's introspection endpoint as the contract describes it; checks our service token. */
export async function startIntrospectionServer() {
  const answers = new Map<string, Record<string, unknown>>();
  let mode: IntrospectionMode = 'normal';
  let hits = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/api/auth/introspect') {
      res.writeHead(404).end();
      return;
    }
    hits += 1;
    if (mode === 'reset-once') {
      mode = 'normal';
      req.socket.destroy();
      return;
    }
    if (mode === 'server-error') {
      res.writeHead(500).end();
      return;
    }
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${SERVICE_TOKEN}`) {
      send(401, { error: 'bad service token' });
      return;
    }
    const { token } = (await readJson(req)) as { token?: unknown };
    send(200, (typeof token === 'string' && answers.get(token)) || { active: false });
  };
  const server = createServer((req, res) => void handle(req, res));
  const base = await listen(server);
  return {
    url: `${base}/api/auth/introspect`,
    get hits() {
      return hits;
    },
    setAnswer(apiKey: string, answer: Record<string, unknown>) {
      answers.set(apiKey, answer);
    },
    setMode(next: IntrospectionMode) {
      mode = next;
    },
    close: () => close(server),
  };
}

export interface Harness {
  app: Express;
  authenticator: Authenticator;
  logLines: () => Array<Record<string, unknown>>;
  logText: () => string;
}

/** A service-kit app with routes behind the middleware, and its JSON log lines captured. */
export function buildHarness(options: Partial<AuthenticatorOptions> & { jwksUrl: string | URL }): Harness {
  const stream = new PassThrough();
  let captured = '';
  stream.on('data', (chunk: Buffer) => {
    captured += chunk.toString('utf8');
  });
  const logger = createLogger({ service: 'auth-client-test', level: 'debug', stream });
  const config = loadConfig('auth-client-test', baseEnvShape, { LOG_LEVEL: 'debug' });
  const kit = createServiceKit({ name: 'auth-client-test', version: '0.0.0', config, logger });
  const authenticator = createAuthenticator({
    issuer: ISSUER,
    audience: AUDIENCE,
    introspectionUrl: 'http://127.0.0.1:9/api/auth/introspect',
    serviceToken: SERVICE_TOKEN,
    logger,
    ...options,
  });
  const app = createHttpApp(kit, (app) => {
    app.get('/api/me', authenticator.requireAuth, (req, res) => {
      res.json({ auth: req.auth, locals: res.locals.auth });
    });
    app.get('/api/admin', authenticator.requireAuth, requireRole('admin'), (req, res) => {
      res.json({ userId: req.auth?.userId });
    });
    app.get('/api/optional', authenticator.optionalAuth, (req, res) => {
      res.json({ auth: req.auth ?? null });
    });
    app.get('/api/unguarded-admin', requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
  });
  return {
    app,
    authenticator,
    logText: () => captured,
    logLines: () =>
      captured
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
