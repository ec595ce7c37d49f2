// The journey through the front over HTTPS: sign-in over HTTP, an API key, the `openai` SDK (a
// reply, a streamed reply, the model list), a /v1 call that names no model, the admin page's
// model pull, each as a user or an operator would do it.
import { readFileSync } from 'node:fs';
import { lookup as dnsLookup } from 'node:dns';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Defect } from './checks.js';

export interface Front {
  host: string;
  port: number;
  caFile: string;
}

export interface JourneyStep {
  step: string;
  detail: string;
}

/** undici's fetch, trusting the front's certificate and resolving its host to this machine. */
export function frontFetch(front: Front): typeof fetch {
  const dispatcher = new Agent({
    connect: {
      ca: readFileSync(front.caFile),
      servername: front.host,
      lookup: ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
        if (hostname !== front.host) return dnsLookup(hostname, options as never, callback as never);
        if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }) as never,
    },
  });
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}

export async function runJourney(options: {
  front: Front;
  admin: { email: string; password: string };
  model: string;
  pullPath: string;
  log: (step: JourneyStep) => void;
}): Promise<Defect[]> {
  const { front, log } = options;
  const base = `https://${front.host}:${front.port}`;
  const httpFetch = frontFetch(front);
  const defects: Defect[] = [];
  const json = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
    const res = await httpFetch(`${base}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        Accept: 'application/json',
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers };
  };
  const expectStatus = (what: string, got: { status: number; text: string }, want: number[]) => {
    if (!want.includes(got.status)) throw new Error(`${what}: HTTP ${got.status} ${got.text.slice(0, 300)}`);
  };

  const page = await json('/');
  expectStatus('GET / (web)', page, [200]);
  log({ step: 'web page', detail: `GET / -> ${page.status}, ${page.text.length} bytes` });

  const login = await json('/api/auth/login', { body: options.admin });
  expectStatus('sign-in as the bootstrap admin', login, [200]);
  const accessToken = (JSON.parse(login.text) as { accessToken: string }).accessToken;
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('corral_refresh='));
  log({
    step: 'sign-in',
    detail: `POST /api/auth/login -> 200, refresh cookie ${cookie?.includes('Secure') ? 'Secure' : 'NOT Secure'}`,
  });

  const key = await json('/api/auth/api-keys', { body: { name: 'rehearsal' }, token: accessToken });
  expectStatus('create an API key', key, [201]);
  const apiKey = (JSON.parse(key.text) as { key: string }).key;

  const openai = new OpenAI({ apiKey, baseURL: `${base}/v1`, fetch: httpFetch, maxRetries: 0 });
  const models = await openai.models.list();
  const ids = models.data.map((m) => m.id);
  log({ step: 'openai models.list', detail: ids.join(', ') });

  const reply = await openai.chat.completions.create({
    model: options.model,
    messages: [{ role: 'user', content: 'Say hello to the rehearsal.' }],
  });
  const text = reply.choices[0]?.message.content ?? '';
  if (!text) throw new Error('openai chat.completions.create returned no content');
  log({
    step: 'openai chat',
    detail: `${reply.usage?.completion_tokens ?? '?'} tokens: ${text.slice(0, 60)}…`,
  });

  const stream = await openai.chat.completions.create({
    model: options.model,
    messages: [{ role: 'user', content: 'Stream a reply.' }],
    stream: true,
  });
  let chunks = 0;
  let streamed = '';
  for await (const chunk of stream) {
    chunks += 1;
    streamed += chunk.choices[0]?.delta.content ?? '';
  }
  if (chunks < 2 || !streamed) throw new Error(`streamed reply: ${chunks} chunks, "${streamed}"`);
  log({ step: 'openai stream', detail: `${chunks} chunks through the front (buffering off)` });

  // A conversation that names no model gets DEFAULT_MODEL: it must be a model the pool holds.
  const conversation = await json('/api/conversations', { body: { title: 'rehearsal' }, token: accessToken });
  if (conversation.status === 404) {
    defects.push({
      id: 'default-model',
      message: `default model not pulled: POST /api/conversations without a model -> 404 ${conversation.text.slice(0, 200)}`,
    });
  } else {
    expectStatus('a conversation without a model', conversation, [201]);
    const { conversation: view } = JSON.parse(conversation.text) as {
      conversation: { id: string; model: string };
    };
    const res = await httpFetch(`${base}/api/conversations/${view.id}/messages`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${accessToken}`,
        'Content-Type': 'application/json',
        Accept: 'text/event-stream',
      },
      body: JSON.stringify({ content: 'Hello from the rehearsal.' }),
    });
    const events = await res.text();
    const failed = /^event: error$/m.test(events);
    if (res.status === 404 || (failed && /not found|404/i.test(events))) {
      defects.push({
        id: 'default-model',
        message: `default model not pulled: a reply in a conversation on the default model ${view.model} failed: ${events.slice(0, 200)}`,
      });
    } else if (res.status !== 200 || failed) {
      throw new Error(
        `a reply in a conversation on ${view.model}: HTTP ${res.status} ${events.slice(0, 300)}`,
      );
    } else {
      log({
        step: 'default model',
        detail: `conversation on ${view.model} (DEFAULT_MODEL), reply streamed as SSE`,
      });
    }
  }

  // The admin page's "Pull a model", on the path the shipped web bundle posts to.
  const pull = await json(options.pullPath, { body: { model: options.model }, token: accessToken });
  if (pull.status === 404) {
    defects.push({
      id: 'admin-route',
      message: `the /admin route: POST ${options.pullPath} (the admin page's "Pull a model") -> 404 through the Ingress`,
    });
  } else {
    expectStatus(`POST ${options.pullPath}`, pull, [200, 202]);
    log({ step: 'admin model pull', detail: `POST ${options.pullPath} -> ${pull.status}` });
  }
  return defects;
}
