// Tools, structured output, images and reasoning through Corral's /v1 (web origin → chat-api →
// gateway → ollama-sim), driven by the frameworks app teams use, unchanged: the `openai` SDK, the
// Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`) and LangChain JS (`@langchain/openai`).
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, Output, stepCountIs, tool } from 'ai';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { activeUser, createApiKey } from './support/accounts.js';
import { corral } from './support/stack.js';

const TOOLS_MODEL = 'llama3.2';
const VISION_MODEL = 'llava';
const THINKING_MODEL = 'qwen3';
// A 1×1 PNG.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

let apiKey: string;
let client: OpenAI;
const baseURL = () => `${corral().baseUrl}/v1`;

beforeAll(async () => {
  const { session } = await activeUser('frameworks');
  apiKey = await createApiKey(session, 'frameworks e2e');
  client = new OpenAI({ apiKey, baseURL: baseURL(), maxRetries: 0 });
});

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
    },
  },
};
const timeTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Current time in a time zone',
    parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
  },
};

describe('openai SDK', () => {
  it('answers with a tool call, then with text once the tool result comes back', async () => {
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Oslo?' };
    const first = await client.chat.completions.create({
      model: TOOLS_MODEL,
      messages: [question],
      tools: [weatherTool],
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments) as { city: unknown; unit: unknown };
    expect(typeof args.city).toBe('string');
    expect(['celsius', 'fahrenheit']).toContain(args.unit);

    const second = await client.chat.completions.create({
      model: TOOLS_MODEL,
      messages: [
        question,
        choice.message,
        { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 4 }) },
      ],
      tools: [weatherTool],
    });
    expect(second.choices[0]?.finish_reason).not.toBe('tool_calls');
    expect(second.choices[0]?.message.content?.trim()).not.toBe('');
  });

  it('streams two parallel tool calls with distinct indexes, intact, and usage', async () => {
    const stream = client.chat.completions.stream({
      model: TOOLS_MODEL,
      messages: [{ role: 'user', content: 'Use get_weather and get_time for Oslo.' }],
      tools: [weatherTool, timeTool],
      stream_options: { include_usage: true },
    });
    const indexes = new Set<number>();
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) indexes.add(delta.index);
    }
    const final = await stream.finalChatCompletion();
    expect([...indexes]).toEqual([0, 1]);
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const calls = (choice.message.tool_calls ?? []).flatMap((c) => (c.type === 'function' ? [c] : []));
    expect(calls.map((c) => c.function.name)).toEqual(['get_weather', 'get_time']);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(Object.keys(JSON.parse(calls[0]!.function.arguments) as object).sort()).toEqual(['city', 'unit']);
    expect(Object.keys(JSON.parse(calls[1]!.function.arguments) as object)).toEqual(['zone']);
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('answers response_format json_schema with JSON valid against the schema', async () => {
    const completion = await client.chat.completions.create({
      model: TOOLS_MODEL,
      messages: [{ role: 'user', content: 'Describe a horse.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'animal',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              legs: { type: 'integer' },
              kind: { type: 'string', enum: ['mammal', 'bird'] },
            },
            required: ['name', 'legs', 'kind'],
            additionalProperties: false,
          },
        },
      },
    });
    const value = JSON.parse(completion.choices[0]!.message.content ?? '') as Record<string, unknown>;
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.legs)).toBe(true);
    expect(['mammal', 'bird']).toContain(value.kind);
  });

  it('sends an image data URL to a vision model', async () => {
    const completion = await client.chat.completions.create({
      model: VISION_MODEL,
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
    expect(completion.choices[0]?.message.content).toContain('1 image');
  });

  it('keeps a reasoning model’s thinking apart from its answer', async () => {
    const completion = await client.chat.completions.create({
      model: THINKING_MODEL,
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      reasoning_effort: 'low',
    });
    const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning?: string };
    expect(message.reasoning?.length).toBeGreaterThan(0);
    expect(message.content ?? '').not.toContain(message.reasoning!);
  });

  it('refuses a parameter it cannot honour with a 400 naming it', async () => {
    const error = await client.chat.completions
      .create({ model: TOOLS_MODEL, messages: [{ role: 'user', content: 'hi' }], n: 2 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('n: only one choice');
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
  });
});

describe('openai SDK: /v1/responses (stateless)', () => {
  it('answers text input with instructions, whole and streamed alike', async () => {
    const ask = {
      model: TOOLS_MODEL,
      instructions: 'Be brief.',
      input: 'Name a river.',
      max_output_tokens: 10,
    };
    const whole = await client.responses.create(ask);
    expect(whole.object).toBe('response');
    expect(whole.output_text.trim()).not.toBe('');
    expect(whole.usage?.output_tokens).toBeGreaterThan(0);

    const stream = await client.responses.create({ ...ask, stream: true });
    const types: string[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed' || event.type === 'response.incomplete')
        completed = event.response;
    }
    expect(types[0]).toBe('response.created');
    expect(types).toEqual(
      expect.arrayContaining([
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.output_item.done',
      ]),
    );
    expect(text).toBe(whole.output_text);
    expect(completed?.status).toBe(whole.status);
    expect(completed?.usage?.output_tokens).toBe(whole.usage?.output_tokens);
  });

  it('calls a function tool, then answers once given its output as message input', async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      {
        type: 'function',
        name: 'get_weather',
        description: 'Current weather in a city',
        parameters: weatherTool.function.parameters ?? {},
        strict: true,
      },
    ];
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await client.responses.create({ model: TOOLS_MODEL, input, tools });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('expected a function call');
    expect(call.name).toBe('get_weather');
    expect(Object.keys(JSON.parse(call.arguments) as object).sort()).toEqual(['city', 'unit']);
    const second = await client.responses.create({
      model: TOOLS_MODEL,
      input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '{"temp":3}' }],
      tools,
    });
    expect(second.output.some((item) => item.type === 'function_call')).toBe(false);
    expect(second.output_text.trim()).not.toBe('');
  });

  it('answers text.format json_schema with JSON valid against it', async () => {
    const response = await client.responses.create({
      model: TOOLS_MODEL,
      input: 'A city',
      text: {
        format: {
          type: 'json_schema',
          name: 'city',
          schema: {
            type: 'object',
            properties: { name: { type: 'string' }, population: { type: 'integer' } },
            required: ['name', 'population'],
            additionalProperties: false,
          },
        },
      },
    });
    const value = JSON.parse(response.output_text) as Record<string, unknown>;
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.population)).toBe(true);
  });
});

describe('Vercel AI SDK', () => {
  const provider = () =>
    createOpenAICompatible({ name: 'corral', apiKey, baseURL: baseURL(), supportsStructuredOutputs: true });

  it('generateText runs a tool and then answers', async () => {
    const executed: Array<{ city: string }> = [];
    const result = await generateText({
      model: provider().chatModel(TOOLS_MODEL),
      prompt: 'What is the weather in Bergen?',
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            executed.push({ city });
            return { city, temperature: 7 };
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(executed).toHaveLength(1);
    expect(result.steps[0]?.finishReason).toBe('tool-calls');
    expect(result.steps.at(-1)?.finishReason).not.toBe('tool-calls');
    expect(result.text.trim()).not.toBe('');
  });

  it('generates structured output valid against a zod schema', async () => {
    const schema = z.object({ name: z.string(), legs: z.number().int(), tags: z.array(z.string()) });
    const result = await generateText({
      model: provider().chatModel(TOOLS_MODEL),
      prompt: 'Describe a goat.',
      output: Output.object({ schema }),
    });
    expect(schema.parse(result.output)).toEqual(result.output);
  });
});

describe('LangChain JS', () => {
  const model = (name: string) =>
    new ChatOpenAI({ model: name, apiKey, configuration: { baseURL: baseURL() }, maxRetries: 0 });

  it('bindTools returns parsed tool_calls', async () => {
    const reply = await model(TOOLS_MODEL).bindTools([weatherTool]).invoke('What is the weather in Tromsø?');
    expect(reply.tool_calls).toHaveLength(1);
    const [call] = reply.tool_calls!;
    expect(call?.name).toBe('get_weather');
    expect(call?.id).toMatch(/^call_/);
    expect(typeof call?.args.city).toBe('string');
  });

  it('withStructuredOutput returns an object valid against the schema', async () => {
    const schema = z.object({ title: z.string(), year: z.number().int() });
    const value = await model(TOOLS_MODEL).withStructuredOutput(schema, { name: 'book' }).invoke('A book');
    expect(schema.parse(value)).toEqual(value);
  });
});
