import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type OllamaSim, startOllamaSim } from '@corral/ollama-sim';
import {
  baseEnvShape,
  createLogger,
  createServiceKit,
  loadConfig,
  type ServiceKit,
} from '@corral/service-kit';
import {
  dropSchema,
  logCount,
  type RunningService,
  schemaEnv,
  serveApp,
  startService,
  uniqueSchema as uniqueSchemaFor,
} from '@corral/test-support';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { createApp } from '../src/app.js';
import { type ChatConfig, chatEnvShape } from '../src/config.js';
import type { ChatContext } from '../src/context.js';
import { contract } from './contract.js';

export const uniqueSchema = () => uniqueSchemaFor('chat_test');

/** Where a test chat-api on `schema` spills pending reply saves: its own file, never another test's. */
export const pendingSavesFile = (schema: string) => join(tmpdir(), 'corral-chat-test', `${schema}.jsonl`);

export interface TestChat {
  url: string;
  ctx: ChatContext;
  kit: ServiceKit<ChatConfig>;
  schema: string;
  close(): Promise<void>;
}

/** The pace and reply length startSim gives a sim, which a test may change for itself. */
const SIM_TUNABLES = { tokensPerSecond: 0, responseTokens: 24 };

export async function startSim(): Promise<OllamaSim> {
  return startOllamaSim({
    models: ['llama3.2', 'qwen2.5', 'nomic-embed-text'],
    ...SIM_TUNABLES,
    ttftMs: 0,
    logger: null,
  });
}

export interface StartChatOptions {
  schema?: string;
  keyPrefix?: string;
  env?: Record<string, string>;
}

/** A real chat-api app on an ephemeral port, in its own Postgres schema and Redis key prefix (unless shared). */
export async function startChat(sim: OllamaSim, options: StartChatOptions = {}): Promise<TestChat> {
  const schema = options.schema ?? uniqueSchema();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    ...schemaEnv(schema, options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    AUTH_URL: inject('authUrl'),
    INTERNAL_SERVICE_TOKEN: inject('serviceToken'),
    GATEWAY_URL: sim.url,
    API_KEY_CACHE_MS: '0',
    // Background titles would send extra requests to the sim; the titles suite turns them on.
    TITLE_GENERATION: 'false',
    PENDING_SAVES_FILE: pendingSavesFile(schema),
    ...options.env,
  };
  const config = loadConfig('chat-api', { ...baseEnvShape, ...chatEnvShape }, env) as ChatConfig;
  const kit = createServiceKit({
    name: 'chat-api',
    config,
    logger: createLogger({ service: 'chat-api', level: 'error', stream: new PassThrough().resume() }),
  });
  const app = await serveApp<ChatContext>(
    async (onContext) => contract.wrap(await createApp(kit, { onContext })),
    () => kit.lifecycle.runShutdownHooks(kit.logger),
  );
  return { ...app, kit, schema };
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/** Registers a user with the real auth service (test users are active at once) and signs them in. */
export async function signUp(): Promise<TestUser> {
  const authUrl = inject('authUrl');
  const email = `user-${randomBytes(4).toString('hex')}@chat.test`;
  const password = 'user-password-123';
  await request(authUrl).post('/api/auth/register').send({ email, password }).expect(202);
  const res = await request(authUrl).post('/api/auth/login').send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as { accessToken: string; user: { id: string } };
  return { id: body.user.id, email, token: body.accessToken };
}

/** Creates an API key (`sk-corral-…`) for the user through auth's API. */
export async function createApiKey(user: TestUser, models: string[] | null = null): Promise<string> {
  return (await createApiKeyWithId(user, models)).key;
}

export async function createApiKeyWithId(
  user: TestUser,
  models: string[] | null = null,
): Promise<{ key: string; id: string }> {
  const res = await request(inject('authUrl'))
    .post('/api/auth/api-keys')
    .set('Authorization', `Bearer ${user.token}`)
    .send({ name: `test-${randomBytes(3).toString('hex')}`, models });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const body = res.body as { key: string; apiKey: { id: string } };
  return { key: body.key, id: body.apiKey.id };
}

/** The bootstrap admin global-setup gave auth, signed in. */
export async function signInAdmin(): Promise<TestUser> {
  const admin = inject('admin');
  const res = await request(inject('authUrl')).post('/api/auth/login').send(admin);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as { accessToken: string; user: { id: string } };
  return { id: body.user.id, email: admin.email, token: body.accessToken };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code: string; type: string; status: number };
  expect(body).toMatchObject({ code, status, type: `urn:corral:error:${code}` });
}

export async function createConversation(chat: TestChat, user: TestUser, body: Record<string, unknown> = {}) {
  const res = await request(chat.url).post('/api/conversations').set(bearer(user.token)).send(body);
  expect(res.status, res.text).toBe(201);
  return (res.body as { conversation: { id: string; title: string; model: string } }).conversation;
}

export interface SseEvent {
  event: string;
  data: string;
  /** The event's `id:` field, when it has one. */
  id?: string;
}

/**
 * An SSE response read the way a browser's EventSource does: lines split on LF/CR, `event:` and
 * `data:` fields collected, an event dispatched at each blank line, comments ignored.
 */
export interface SseStream {
  status: number;
  headers: Headers;
  /** The next event, or undefined at the end of the stream. */
  next(): Promise<SseEvent | undefined>;
  /** Reads the rest of the stream. */
  rest(): Promise<SseEvent[]>;
  /** Drops the connection, as a closed browser tab does. */
  abort(): void;
}

/** POSTs `body` (or GETs, when it is undefined, with `headers` such as Last-Event-ID) and reads the events. */
export async function openSse(
  url: string,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...bearer(token),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      Accept: 'text/event-stream',
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: controller.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  let ended = false;
  const queue: SseEvent[] = [];

  function consumeLines(): void {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) return;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (data.length > 0)
          queue.push({
            event: event || 'message',
            data: data.join('\n'),
            ...(id === undefined ? {} : { id }),
          });
        event = '';
        id = undefined;
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
    }
  }

  async function next(): Promise<SseEvent | undefined> {
    while (queue.length === 0 && !ended) {
      const { value, done } = await reader.read();
      if (done) ended = true;
      else {
        buffer += value;
        consumeLines();
      }
    }
    return queue.shift();
  }

  return {
    status: res.status,
    headers: res.headers,
    next,
    async rest() {
      const events: SseEvent[] = [];
      for (let e = await next(); e; e = await next()) events.push(e);
      return events;
    },
    abort: () => controller.abort(),
  };
}

/** Reads events until one named `name` arrives; returns it and everything before it. */
export async function readUntil(
  stream: SseStream,
  name: string,
): Promise<{ event: SseEvent; before: SseEvent[] }> {
  const before: SseEvent[] = [];
  for (let e = await stream.next(); e; e = await stream.next()) {
    if (e.event === name) return { event: e, before };
    before.push(e);
  }
  throw new Error(`stream ended before a "${name}" event; got ${before.map((e) => e.event).join(',')}`);
}

export type ChatProcess = RunningService;

/** chat-api as its own process (as in production): `node --conditions=corral-source --import tsx src/index.ts`. */
export function spawnChatProcess(
  sim: OllamaSim,
  options: { schema: string; keyPrefix?: string; env?: Record<string, string> },
): Promise<ChatProcess> {
  return startService('services/chat-api/src/index.ts', {
    env: {
      ...schemaEnv(options.schema, options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
      AUTH_URL: inject('authUrl'),
      INTERNAL_SERVICE_TOKEN: inject('serviceToken'),
      GATEWAY_URL: sim.url,
      TITLE_GENERATION: 'false',
      PENDING_SAVES_FILE: pendingSavesFile(options.schema),
      ...options.env,
    },
  });
}

/**
 * The real inference-gateway as its own process in front of `backends` (ollama-sims), requiring
 * `token` as its GATEWAY_SERVICE_TOKEN. Resolves once every backend has joined the pool.
 */
export async function spawnGateway(
  backends: OllamaSim[],
  token: string,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const gateway = await startService('services/inference-gateway/src/index.ts', {
    env: {
      OLLAMA_URLS: backends.map((backend) => backend.url).join(','),
      GATEWAY_SERVICE_TOKEN: token,
      ...env,
    },
  });
  // The gateway checks each backend as soon as it knows it; tests want them all in the pool.
  await gateway.waitFor((output) => logCount(output, 'backend joined') >= backends.length, {
    what: `${backends.length} "backend joined" log lines`,
  });
  return gateway;
}

/**
 * What a service has answered so far, from its own /metrics (probes and /metrics left out):
 * `refused` are 401s, `passed` are 2xx.
 */
export async function answersOf(serviceUrl: string): Promise<{ refused: number; passed: number }> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const answers = { refused: 0, passed: 0 };
  for (const match of text.matchAll(/^http_request_duration_seconds_count\{(.*)\} (\d+)$/gm)) {
    const labels = match[1]!;
    if (/route="\/(metrics|readyz|healthz)"/.test(labels)) continue;
    const status = Number(/status="(\d+)"/.exec(labels)?.[1]);
    if (status === 401) answers.refused += Number(match[2]);
    else if (status >= 200 && status < 300) answers.passed += Number(match[2]);
  }
  return answers;
}

export interface ChatApiStackOptions<User extends string, Sim extends string> {
  /** The sims to start, by the names the tests use (`stack.<name>`); one called `sim` by default. */
  sims?: readonly Sim[];
  /** The real inference-gateway as a process in front of every sim, requiring this service token. */
  gatewayToken?: string;
  /** The file's chat-api (on the gateway if there is one, else on the first sim) with these variables; `false`: none. */
  chat?: false | { env?: Record<string, string> };
  /** Users to sign up, by the names the tests use (`stack.<name>`). */
  users?: readonly User[];
  /** Sign in the bootstrap admin global-setup gave auth (`stack.admin`). */
  admin?: boolean;
}

/** What useChatApiStack started; set once its beforeAll has run. */
export interface ChatApiStack {
  /** Every sim started for the file, in the order named. */
  sims: OllamaSim[];
  /** Only with `gatewayToken`. */
  gateway: RunningService;
  /** Unless `chat: false`. */
  chat: TestChat;
  /** Only with `admin: true`. */
  admin: TestUser;
  /** Another chat-api (on the first sim unless its env says otherwise), closed after the file and its schema dropped. */
  startChat(options?: StartChatOptions): Promise<TestChat>;
  /** chat-api as a process of its own, killed after the file and its schema dropped. */
  spawnChatProcess(options: Parameters<typeof spawnChatProcess>[1]): Promise<ChatProcess>;
  /** Another sim, closed after the file. */
  startSim(): Promise<OllamaSim>;
  /** Another gateway process, stopped after the file. */
  spawnGateway(...args: Parameters<typeof spawnGateway>): Promise<RunningService>;
  /** A schema name for the file's own use, dropped after it. */
  schema(): string;
}

const RESERVED = new Set([
  'sims',
  'gateway',
  'chat',
  'admin',
  'startChat',
  'spawnChatProcess',
  'startSim',
  'spawnGateway',
  'schema',
]);

/**
 * The fixture the chat-api files share. Before their tests: the sims, the gateway if asked, the
 * file's chat-api and its users signed in with the real auth. After each test: the sims back to
 * no failure and their start-up pace. After all of them: everything the stack started (here or
 * through its methods) stopped, and every schema dropped.
 */
export function useChatApiStack<const User extends string = never, const Sim extends string = 'sim'>(
  options: ChatApiStackOptions<User, Sim> = {},
): ChatApiStack & Record<User, TestUser> & Record<Sim, OllamaSim> {
  const simNames: readonly string[] = options.sims ?? ['sim'];
  const userNames: readonly string[] = options.users ?? [];
  for (const name of [...simNames, ...userNames]) {
    if (RESERVED.has(name)) throw new Error(`useChatApiStack: "${name}" is taken by the stack itself`);
  }
  const chats: TestChat[] = [];
  const processes: RunningService[] = [];
  const extraSims: OllamaSim[] = [];
  const schemas: string[] = [];

  const stack: ChatApiStack = {
    sims: [],
    gateway: undefined as unknown as RunningService,
    chat: undefined as unknown as TestChat,
    admin: undefined as unknown as TestUser,
    async startChat(chatOptions = {}) {
      const chat = await startChat(stack.sims[0]!, chatOptions);
      chats.push(chat);
      schemas.push(chat.schema);
      return chat;
    },
    async spawnChatProcess(processOptions) {
      schemas.push(processOptions.schema);
      const child = await spawnChatProcess(stack.sims[0]!, processOptions);
      processes.push(child);
      return child;
    },
    async startSim() {
      const sim = await startSim();
      extraSims.push(sim);
      return sim;
    },
    async spawnGateway(...args) {
      const gateway = await spawnGateway(...args);
      processes.push(gateway);
      return gateway;
    },
    schema() {
      const schema = uniqueSchema();
      schemas.push(schema);
      return schema;
    },
  };

  // A gateway process takes a while to start on a busy machine.
  beforeAll(async () => {
    stack.sims = await Promise.all(simNames.map(() => startSim()));
    const named = stack as unknown as Record<string, unknown>;
    simNames.forEach((name, i) => (named[name] = stack.sims[i]));
    if (options.gatewayToken) {
      stack.gateway = await stack.spawnGateway(stack.sims, options.gatewayToken);
    }
    if (options.chat !== false) {
      const through: Record<string, string> = options.gatewayToken
        ? { GATEWAY_URL: stack.gateway.url, GATEWAY_SERVICE_TOKEN: options.gatewayToken }
        : {};
      stack.chat = await stack.startChat({ env: { ...through, ...options.chat?.env } });
    }
    const [admin, ...users] = await Promise.all([
      options.admin ? signInAdmin() : undefined,
      ...userNames.map(() => signUp()),
    ]);
    if (admin) stack.admin = admin;
    userNames.forEach((name, i) => (named[name] = users[i]));
  }, 60_000);

  afterEach(() => {
    for (const sim of stack.sims) {
      sim.setFailure({ mode: 'none' });
      sim.setOptions(SIM_TUNABLES);
    }
  });

  afterAll(async () => {
    for (const chat of chats) await chat.close();
    await Promise.all(processes.map((child) => child.kill()));
    await Promise.all([...stack.sims, ...extraSims].map((sim) => sim.close()));
    for (const schema of new Set(schemas)) await dropSchema(schema);
  });

  return stack as ChatApiStack & Record<User, TestUser> & Record<Sim, OllamaSim>;
}
