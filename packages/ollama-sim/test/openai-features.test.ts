import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedGenerateReply, expectedOpenAIChatReply, type OllamaSim } from '../src/index.js';
import { NOT_AN_IMAGE, PNG, clockTool, schemaValidator, weatherTool } from './fixtures.js';
import { startQuietSim } from './helpers.js';

let sim: OllamaSim;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startQuietSim();
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

const tools = [weatherTool, clockTool] as unknown as OpenAI.ChatCompletionTool[];

describe('/v1/chat/completions: tools, as Ollama’s OpenAI layer answers', () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'Weather please: get_weather' },
  ];

  it('non-streaming: tool_calls with call_ ids, arguments as a JSON string, finish_reason tool_calls', async () => {
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages, tools });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(schemaValidator(weatherTool.function.parameters)(JSON.parse(call.function.arguments))).toBe(true);
    const expected = expectedOpenAIChatReply({ model: 'llama3.2', messages, tools });
    expect(call.id).toBe(expected.toolCalls[0]?.id);
  });

  it('streaming: two calls keep distinct indexes and the last chunk says tool_calls', async () => {
    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'call get_weather and get_time' }],
      tools,
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const entry = calls.get(delta.index) ?? { args: '' };
        entry.id ??= delta.id;
        entry.name ??= delta.function?.name;
        entry.args += delta.function?.arguments ?? '';
        calls.set(delta.index, entry);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([...calls.keys()]).toEqual([0, 1]);
    expect([...calls.values()].map((c) => c.name)).toEqual(['get_weather', 'get_time']);
    expect(schemaValidator(clockTool.function.parameters)(JSON.parse(calls.get(1)?.args ?? ''))).toBe(true);
    expect(finish).toBe('tool_calls');
  });

  it('a tool result turn is answered in text', async () => {
    const first = await openai.chat.completions.create({ model: 'llama3.2', messages, tools });
    const call = first.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    const followUp: OpenAI.ChatCompletionMessageParam[] = [
      ...messages,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '21 degrees' },
    ];
    const answer = await openai.chat.completions.create({ model: 'llama3.2', messages: followUp, tools });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.choices[0]?.message.content).toBe(
      expectedOpenAIChatReply({ model: 'llama3.2', messages: followUp, tools }).text,
    );
  });

  it('tools on a model without them: 400 in OpenAI shape with Ollama’s text', async () => {
    await expect(openai.chat.completions.create({ model: 'llava', messages, tools })).rejects.toMatchObject({
      status: 400,
      error: {
        message: 'registry.ollama.ai/library/llava:latest does not support tools',
        type: 'invalid_request_error',
      },
    });
  });
});

describe('/v1/chat/completions: structured output, images, reasoning', () => {
  it('response_format json_schema gives JSON valid against the schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string' },
        year: { type: 'integer', minimum: 1900, maximum: 2030 },
        genres: { type: 'array', items: { enum: ['drama', 'comedy'] }, minItems: 1 },
      },
      required: ['title', 'year', 'genres'],
      additionalProperties: false,
    };
    const completion = await openai.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'a film' }],
      response_format: { type: 'json_schema', json_schema: { name: 'film', schema, strict: true } },
    });
    const content = completion.choices[0]?.message.content ?? '';
    expect(schemaValidator(schema)(JSON.parse(content))).toBe(true);
  });

  it('an image data URL reaches a vision model; a bad one is Ollama’s 400', async () => {
    const completion = await openai.chat.completions.create({
      model: 'llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content?.startsWith('I see 1 image.')).toBe(true);

    const imageMessage = (url: string): OpenAI.ChatCompletionMessageParam[] => [
      { role: 'user', content: [{ type: 'image_url', image_url: { url } }] },
    ];
    await expect(
      openai.chat.completions.create({ model: 'llava', messages: imageMessage('https://example.com/a.png') }),
    ).rejects.toMatchObject({ status: 400, error: { message: 'invalid image input' } });
    await expect(
      openai.chat.completions.create({
        model: 'llava',
        messages: imageMessage(`data:image/png;base64,${NOT_AN_IMAGE}`),
      }),
    ).rejects.toMatchObject({ status: 500 });
  });

  it('a thinking model’s reasoning comes back in `reasoning`, apart from the content', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'think first' }];
    const completion = await openai.chat.completions.create({ model: 'qwen3', messages });
    const message = completion.choices[0]?.message as { content: string; reasoning?: string };
    const expected = expectedOpenAIChatReply({ model: 'qwen3', messages });
    expect(message.reasoning).toBe(expected.thinking.join(''));
    expect(message.content).toBe(expected.text);

    let reasoning = '';
    let content = '';
    const stream = await openai.chat.completions.create({ model: 'qwen3', messages, stream: true });
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
      reasoning += delta?.reasoning ?? '';
      content += delta?.content ?? '';
    }
    expect([reasoning, content]).toEqual([expected.thinking.join(''), expected.text]);

    const none = await openai.chat.completions.create({
      model: 'qwen3',
      messages,
      reasoning_effort: 'none' as 'low',
    });
    expect((none.choices[0]?.message as { reasoning?: string }).reasoning).toBeUndefined();
    await expect(
      openai.chat.completions.create({ model: 'qwen3', messages, reasoning_effort: 'max' as 'low' }),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: `invalid reasoning value: 'max' (must be "high", "medium", "low", or "none")` },
    });
  });
});

describe('/v1/completions (legacy text completions), as Ollama maps them onto generate', () => {
  it('answers text_completion objects, streamed or not, with usage', async () => {
    const expected = expectedGenerateReply({ model: 'llama3.2', prompt: 'Once upon a time' });
    const completion = await openai.completions.create({ model: 'llama3.2', prompt: 'Once upon a time' });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]).toMatchObject({ text: expected.text, index: 0, finish_reason: 'stop' });
    expect(completion.usage?.completion_tokens).toBe(expected.evalCount);

    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    const stream = await openai.completions.create({
      model: 'llama3.2',
      prompt: 'Once upon a time',
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(expected.text);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('a prompt that is not a string is the 400 Go gives', async () => {
    await expect(openai.completions.create({ model: 'llama3.2', prompt: ['a', 'b'] })).rejects.toMatchObject({
      status: 400,
      error: {
        message: 'json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string',
      },
    });
  });
});
