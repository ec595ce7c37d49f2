import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, type TestChat, useChatApiStack } from './helpers.js';
import { type ChatRelay, startChatRelay } from './chat-relay.js';

// What chat-api sends Ollama for /v1/chat/completions: a relay between chat-api and the sim keeps
// every /api/chat body, so the mapping (tools, tool_choice, tool turns, format, think, images) is
// checked on the wire, not only through the sim's answers.
const stack = useChatApiStack({ chat: false, users: ['user'] });
let relay: ChatRelay;
let chat: TestChat;
let apiKey: string;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

beforeAll(async () => {
  stack.sim.addModel('llava');
  stack.sim.addModel('qwen3');
  relay = await startChatRelay(stack.sim.url);
  chat = await stack.startChat({ env: { GATEWAY_URL: relay.url } });
  apiKey = await createApiKey(stack.user);
});

afterAll(() => relay.close());

const weather = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const time = { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } };

async function sentFor(body: object): Promise<Record<string, unknown>> {
  const before = relay.bodies.length;
  const res = await request(chat.url).post('/v1/chat/completions').set(bearer(apiKey)).send(body);
  expect(res.status).toBe(200);
  expect(relay.bodies.length).toBe(before + 1);
  return JSON.parse(relay.bodies.at(-1)!) as Record<string, unknown>;
}

describe('the Ollama request behind /v1/chat/completions', () => {
  const user = { role: 'user', content: 'hello' };

  it('sends tools as given, none for tool_choice none, only the named one for a named choice', async () => {
    expect((await sentFor({ model: 'llama3.2', messages: [user], tools: [weather, time] })).tools).toEqual([
      weather,
      time,
    ]);
    const none = await sentFor({
      model: 'llama3.2',
      messages: [user],
      tools: [weather],
      tool_choice: 'none',
    });
    expect(none).not.toHaveProperty('tools');
    const named = await sentFor({
      model: 'llama3.2',
      messages: [user],
      tools: [weather, time],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(named.tools).toEqual([time]);
  });

  it('turns assistant tool_calls and tool messages into Ollama turns with tool_name', async () => {
    const body = await sentFor({
      model: 'llama3.2',
      messages: [
        { role: 'developer', content: 'be terse' },
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
        { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: 'sunny' }] },
      ],
      tools: [weather, time],
    });
    expect(body.messages).toEqual([
      { role: 'system', content: 'be terse' },
      user,
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_a', function: { index: 0, name: 'get_weather', arguments: { city: 'Oslo' } } },
          { id: 'call_b', function: { index: 1, name: 'get_time', arguments: {} } },
        ],
      },
      { role: 'tool', content: '12:00', tool_name: 'get_time' },
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
    ]);
  });

  it('sends response_format as format, reasoning_effort as think, image parts as images', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const structured = await sentFor({
      model: 'llama3.2',
      messages: [user],
      response_format: { type: 'json_schema', json_schema: { name: 's', schema } },
    });
    expect(structured.format).toEqual(schema);
    const json = await sentFor({
      model: 'llama3.2',
      messages: [user],
      response_format: { type: 'json_object' },
    });
    expect(json.format).toBe('json');
    expect((await sentFor({ model: 'qwen3', messages: [user], reasoning_effort: 'high' })).think).toBe(
      'high',
    );
    expect((await sentFor({ model: 'qwen3', messages: [user], reasoning_effort: 'none' })).think).toBe(false);
    const vision = await sentFor({
      model: 'llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is it?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    expect(vision.messages).toEqual([{ role: 'user', content: 'what is it?', images: [PNG] }]);
  });
});
