import { expectedChatReply, expectedGenerateReply } from '@corral/ollama-sim';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, useChatApiStack } from './helpers.js';

// Tools, structured output, images and reasoning on /v1/chat/completions, against ollama-sim (which
// answers them as Ollama does), and the parameters chat-api refuses by name.
const stack = useChatApiStack({ chat: { env: { IMAGE_MAX_BYTES: '2kb' } }, users: ['user'] });
let apiKey: string;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city', 'unit'],
    },
  },
};
const time = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
  },
};

beforeAll(async () => {
  stack.sim.addModel('llava');
  stack.sim.addModel('qwen3');
  apiKey = await createApiKey(stack.user);
});

const post = (body: unknown) =>
  request(stack.chat.url)
    .post('/v1/chat/completions')
    .set(bearer(apiKey))
    .send(body as object);

interface ToolDelta {
  index: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments?: string };
}

/** A `chat.completion.chunk` or `text_completion` chunk, the fields the tests read. */
interface Chunk {
  choices: Array<{
    text?: string;
    delta: { content?: string; reasoning?: string; tool_calls?: ToolDelta[] };
    finish_reason: string | null;
  }>;
  usage?: { completion_tokens: number };
}

async function streamEvents(body: Record<string, unknown>) {
  const res = await post({ ...body, stream: true })
    .buffer(true)
    .parse((r, done) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      r.on('end', () => done(null, text));
    });
  expect(res.status).toBe(200);
  const events = (res.body as string).split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)) as Chunk);
}

describe('tools', () => {
  it('answers a tool call with an id, JSON-string arguments and finish_reason tool_calls', async () => {
    const res = await post({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weather],
    });
    expect(res.status).toBe(200);
    const choice = res.body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    const [call] = choice.message.tool_calls;
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(call.id).toMatch(/^call_/);
    const args = JSON.parse(call.function.arguments);
    expect(Object.keys(args).sort()).toEqual(['city', 'unit']);
    expect(['c', 'f']).toContain(args.unit);
  });

  it('sends the tool result back as a tool message named after the call, and gets text', async () => {
    const question = { role: 'user', content: 'What is the weather in Paris?' };
    const toolTurn = { role: 'tool', content: '{"temperature":21}', tool_name: 'get_weather' };
    const messages = [
      question,
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21}' },
    ];
    const res = await post({ model: 'llama3.2', messages, tools: [weather] });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].finish_reason).not.toBe('tool_calls');
    const expected = expectedChatReply({
      model: 'llama3.2',
      messages: [
        question,
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } } }],
        },
        toolTurn,
      ],
      tools: [weather],
    });
    expect(res.body.choices[0].message.content).toBe(expected.text);
  });

  it('streams two parallel calls with distinct indexes, ids and names first, then arguments', async () => {
    const chunks = await streamEvents({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Call get_weather and get_time please' }],
      tools: [weather, time],
      stream_options: { include_usage: true },
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const seen = calls.get(delta.index);
        if (!seen) {
          expect(delta.id).toMatch(/^call_/);
          expect(delta.type).toBe('function');
          calls.set(delta.index, {
            id: delta.id,
            name: delta.function.name,
            args: delta.function.arguments ?? '',
          });
        } else seen.args += delta.function.arguments ?? '';
      }
    }
    expect([...calls.keys()]).toEqual([0, 1]);
    expect([...calls.values()].map((c) => c.name)).toEqual(['get_weather', 'get_time']);
    expect(new Set([...calls.values()].map((c) => c.id)).size).toBe(2);
    expect(Object.keys(JSON.parse(calls.get(1)!.args))).toEqual(['zone']);
    const finish = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
    expect(finish).toEqual(['tool_calls']);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('tool_choice none sends no tools; a named choice sends only that tool', async () => {
    const ask = { model: 'llama3.2', messages: [{ role: 'user', content: 'Call get_weather and get_time' }] };
    const none = await post({ ...ask, tools: [weather, time], tool_choice: 'none' });
    expect(none.body.choices[0].finish_reason).not.toBe('tool_calls');
    const named = await post({
      ...ask,
      tools: [weather, time],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(
      named.body.choices[0].message.tool_calls.map((c: { function: { name: string } }) => c.function.name),
    ).toEqual(['get_time']);
    const single = await post({ ...ask, tools: [weather, time], parallel_tool_calls: false });
    expect(single.body.choices[0].message.tool_calls).toHaveLength(1);
  });
});

describe('structured output, images, reasoning', () => {
  it('response_format json_schema answers JSON valid against the schema', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, legs: { type: 'integer' } },
      required: ['name', 'legs'],
    };
    const res = await post({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'An animal' }],
      response_format: { type: 'json_schema', json_schema: { name: 'animal', schema } },
    });
    const value = JSON.parse(res.body.choices[0].message.content);
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.legs)).toBe(true);
    const json = await post({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Any JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(() => JSON.parse(json.body.choices[0].message.content)).not.toThrow();
  });

  it('passes a data-URL image to a vision model', async () => {
    const res = await post({
      model: 'llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].message.content).toContain('1 image');
  });

  it('returns reasoning apart from the content, whole and streamed', async () => {
    const body = {
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Think first' }],
      reasoning_effort: 'high',
    };
    const whole = await post(body);
    const message = whole.body.choices[0].message;
    expect(message.reasoning.length).toBeGreaterThan(0);
    expect(message.content).not.toContain(message.reasoning);
    const chunks = await streamEvents(body);
    const reasoning = chunks.map((c) => c.choices[0]?.delta.reasoning ?? '').join('');
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(reasoning).toBe(message.reasoning);
    expect(content).toBe(message.content);
  });
});

describe('refused input, named', () => {
  const imageAt = (url: string) => ({
    model: 'llava',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
  });

  it.each([
    'http://127.0.0.1:1/cat.png',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/cat.png',
    'http://[::1]/cat.png',
    'http://localhost/cat.png',
    'http://[::ffff:127.0.0.1]/cat.png',
  ])('an image URL at %s is refused (400) before anything is fetched', async (url) => {
    const res = await post(imageAt(url));
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toMatch(
      /^messages\[0\]\.content\[0\]\.image_url\.url: images are not fetched from private, loopback or link-local addresses/,
    );
  });

  it('an image URL of another scheme is a 400', async () => {
    const res = await post(imageAt('file:///etc/passwd'));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('http(s) or data: URLs');
  });

  it('a data URL that is not an image is a 400; one over IMAGE_MAX_BYTES a 413', async () => {
    const text = await post(
      imageAt(`data:image/png;base64,${Buffer.from('not an image').toString('base64')}`),
    );
    expect(text.status).toBe(400);
    const html = await post(imageAt(`data:text/html;base64,${Buffer.from('<p>').toString('base64')}`));
    expect(html.status).toBe(400);
    const big = Buffer.concat([Buffer.from(PNG, 'base64'), Buffer.alloc(4096)]).toString('base64');
    const large = await post(imageAt(`data:image/png;base64,${big}`));
    expect(large.status).toBe(413);
  });

  it.each([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['tools[0].type', { tools: [{ type: 'web_search' }] }],
    ['tool_choice', { tools: [weather], tool_choice: 'required' }],
    ['tool_choice', { tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }],
    ['functions', { functions: [{ name: 'f' }] }],
    [
      'messages[1].tool_call_id',
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'c', content: 'y' },
        ],
      },
    ],
  ])('%s is refused with a 400 naming it', async (param, extra) => {
    const res = await post({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message.startsWith(`${param}:`)).toBe(true);
    expect(res.body.error.param).toBe(param);
  });
});

describe('/v1/completions (legacy)', () => {
  const ask = { model: 'llama3.2', prompt: 'Once upon a time', max_tokens: 8 };
  const expected = expectedGenerateReply({
    model: 'llama3.2',
    prompt: ask.prompt,
    options: { num_predict: 8 },
  });

  it('completes a prompt whole and streamed, with usage', async () => {
    const res = await request(stack.chat.url).post('/v1/completions').set(bearer(apiKey)).send(ask);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'text_completion', model: 'llama3.2' });
    expect(res.body.choices[0]).toMatchObject({ index: 0, text: expected.text, finish_reason: 'length' });
    expect(res.body.usage.completion_tokens).toBe(expected.evalCount);
    const streamed = await request(stack.chat.url)
      .post('/v1/completions')
      .set(bearer(apiKey))
      .send({ ...ask, stream: true, stream_options: { include_usage: true } })
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        r.on('end', () => done(null, text));
      });
    const events = (streamed.body as string).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(expected.text);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(expected.evalCount);
  });

  it.each([
    ['n', { n: 2 }],
    ['echo', { echo: true }],
    ['logprobs', { logprobs: 2 }],
    ['prompt', { prompt: ['a', 'b'] }],
  ])('%s is refused with a 400 naming it', async (param, extra) => {
    const res = await request(stack.chat.url)
      .post('/v1/completions')
      .set(bearer(apiKey))
      .send({ ...ask, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error.message.startsWith(`${param}:`)).toBe(true);
  });

  it('needs an API key like every /v1 route', async () => {
    const res = await request(stack.chat.url).post('/v1/completions').send(ask);
    expect(res.status).toBe(401);
    expect(res.body.error.type).toBe('authentication_error');
  });
});
