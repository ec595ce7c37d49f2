import { expectedChatReply } from '@corral/ollama-sim';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, useChatApiStack } from './helpers.js';

// The stateless POST /v1/responses: its events, thinking kept apart, and what it refuses by name.
const stack = useChatApiStack({ users: ['user'] });
let apiKey: string;

beforeAll(async () => {
  stack.sim.addModel('qwen3');
  apiKey = await createApiKey(stack.user);
});

const post = (body: object) => request(stack.chat.url).post('/v1/responses').set(bearer(apiKey)).send(body);

interface ResponseItem {
  type: string;
  summary?: Array<{ text: string }>;
  content?: Array<{ text: string }>;
}

interface ResponseEvent {
  type: string;
  sequence_number: number;
  delta?: string;
  response?: { output: ResponseItem[] };
}

async function events(body: object): Promise<Array<{ event: string; data: ResponseEvent }>> {
  const res = await post({ ...body, stream: true })
    .buffer(true)
    .parse((r, done) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      r.on('end', () => done(null, text));
    });
  expect(res.status).toBe(200);
  return (res.body as string)
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as ResponseEvent;
      return { event, data };
    });
}

describe('POST /v1/responses', () => {
  it('answers the same text as the chat path, with instructions as a system message', async () => {
    const res = await post({ model: 'llama3.2', instructions: 'Be brief.', input: 'Name a lake.' });
    expect(res.status).toBe(200);
    const expected = expectedChatReply({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Name a lake.' },
      ],
    });
    const message = res.body.output.find((item: { type: string }) => item.type === 'message');
    expect(message.content[0]).toMatchObject({ type: 'output_text', text: expected.text });
    expect(res.body.usage.output_tokens).toBe(expected.evalCount);
  });

  it('streams a thinking model: reasoning summary deltas first, then output text, numbered in order', async () => {
    const stream = await events({ model: 'qwen3', input: 'Think about it', reasoning: { effort: 'low' } });
    const types = stream.map((e) => e.event);
    expect(stream.every((e) => e.event === e.data.type)).toBe(true);
    expect(stream.map((e) => e.data.sequence_number)).toEqual(stream.map((_, i) => i));
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    const firstReasoning = types.indexOf('response.reasoning_summary_text.delta');
    const firstText = types.indexOf('response.output_text.delta');
    expect(firstReasoning).toBeGreaterThan(0);
    expect(firstText).toBeGreaterThan(firstReasoning);
    const final = stream.at(-1)!.data.response!;
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    const reasoning = stream
      .filter((e) => e.event === 'response.reasoning_summary_text.delta')
      .map((e) => e.data.delta)
      .join('');
    expect(final.output[0]?.summary?.[0]?.text).toBe(reasoning);
    expect(final.output[1]?.content?.[0]?.text).not.toContain(reasoning);
  });

  it.each([
    ['previous_response_id', { previous_response_id: 'resp_1' }],
    ['background', { background: true }],
    ['tools[0].type', { tools: [{ type: 'web_search_preview' }] }],
    ['input[0].type', { input: [{ type: 'item_reference', id: 'x' }] }],
  ])('%s is refused with a 400 naming it', async (param, extra) => {
    const res = await post({ model: 'llama3.2', input: 'hi', ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message.startsWith(`${param}:`)).toBe(true);
  });

  it('records usage like every generation (GET /api/usage)', async () => {
    const totals = async () => {
      const res = await request(stack.chat.url).get('/api/usage').set(bearer(stack.user.token)).expect(200);
      const items = res.body.items as Array<{ model: string; requests: number; completionTokens: number }>;
      return items
        .filter((item) => item.model === 'llama3.2')
        .reduce(
          (sum, item) => ({ requests: sum.requests + item.requests, out: sum.out + item.completionTokens }),
          {
            requests: 0,
            out: 0,
          },
        );
    };
    const before = await totals();
    const res = await post({ model: 'llama3.2', input: 'Count me' });
    expect(res.status).toBe(200);
    const after = await totals();
    expect(after.requests).toBe(before.requests + 1);
    expect(after.out).toBe(before.out + (res.body.usage.output_tokens as number));
  });

  it('needs an API key', async () => {
    const res = await request(stack.chat.url).post('/v1/responses').send({ model: 'llama3.2', input: 'hi' });
    expect(res.status).toBe(401);
  });
});
