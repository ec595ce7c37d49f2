import type { ReplyStart, ReplySummary } from '@corral/contracts';
import { describe, expect, it } from 'vitest';
import { parseReplyStream } from './chat.js';
import { NetworkError, UnexpectedAnswer } from './errors.js';
import { SseParser, readSse } from './sse.js';

const REPLY_ID = '6f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c';
const CONVERSATION_ID = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
const AT = '2025-11-23T10:00:00.000Z';
/** chat-api's `start` and `done` data for a reply, as its contract has them. */
const START = JSON.stringify({
  conversationId: CONVERSATION_ID,
  userMessage: null,
  assistantMessage: {
    id: REPLY_ID,
    conversationId: CONVERSATION_ID,
    parentId: null,
    role: 'assistant',
    content: '',
    reasoning: null,
    model: 'llama3.2:latest',
    status: 'streaming',
    error: null,
    promptTokens: null,
    completionTokens: null,
    durationMs: null,
    attachments: [],
    createdAt: AT,
    updatedAt: AT,
  },
} satisfies ReplyStart);
const DONE = JSON.stringify({
  messageId: REPLY_ID,
  status: 'complete',
  promptTokens: 3,
  completionTokens: 2,
  durationMs: 40,
  tokensPerSecond: 50,
} satisfies ReplySummary);

const STREAM =
  ': keep-alive\n\n' +
  `event: start\ndata: ${START}\n\n` +
  'event: token\r\ndata: {"text":"Hé"}\r\n\r\n' +
  'event: token\rdata: {"text":"llo 👋"}\r\r' +
  'event: token\ndata: {"text":"multi"}\ndata: {"line":true}\n\n' +
  `event: done\ndata: ${DONE}\n\n`;

const EXPECTED = [
  { event: 'start', data: START },
  { event: 'token', data: '{"text":"Hé"}' },
  { event: 'token', data: '{"text":"llo 👋"}' },
  { event: 'token', data: '{"text":"multi"}\n{"line":true}' },
  { event: 'done', data: DONE },
];

function bytesStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe('SseParser', () => {
  it('parses the whole stream in one chunk', () => {
    expect(new SseParser().feed(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same events wherever the text is split in two or three', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (const j of [i, Math.min(STREAM.length, i + 1), Math.min(STREAM.length, i + 7)]) {
        const parser = new SseParser();
        const events = [
          ...parser.feed(STREAM.slice(0, i)),
          ...parser.feed(STREAM.slice(i, j)),
          ...parser.feed(STREAM.slice(j)),
        ];
        expect(events, `split at ${i}/${j}`).toEqual(EXPECTED);
      }
    }
  });

  it('gives the same events when fed one character at a time', () => {
    const parser = new SseParser();
    expect([...STREAM].flatMap((ch) => parser.feed(ch))).toEqual(EXPECTED);
  });

  it('drops an event whose blank line never came', () => {
    const parser = new SseParser();
    expect(parser.feed('event: token\ndata: {"text":"half"}\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});

describe('readSse over bytes', () => {
  it('decodes UTF-8 split inside a multi-byte character at every byte boundary', async () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let i = 0; i <= bytes.length; i += 1) {
      const events = [];
      for await (const event of readSse(bytesStream([bytes.slice(0, i), bytes.slice(i)]))) events.push(event);
      expect(events, `split at byte ${i}`).toEqual(EXPECTED);
    }
  });
});

describe('parseReplyStream', () => {
  it('yields typed events', async () => {
    const events = [];
    for await (const e of parseReplyStream(bytesStream([new TextEncoder().encode(STREAM)]))) events.push(e);
    // The two-line data is not JSON, so it is skipped rather than breaking the stream.
    expect(events.map((e) => e.type)).toEqual(['start', 'token', 'token', 'done']);
    expect(events[1]).toEqual({ type: 'token', text: 'Hé' });
  });

  it('refuses an event that does not match its contract, rather than guessing', async () => {
    const odd = new TextEncoder().encode('event: done\ndata: {"messageId":"a1","status":"complete"}\n\n');
    await expect(async () => {
      for await (const e of parseReplyStream(bytesStream([odd]))) void e;
    }).rejects.toBeInstanceOf(UnexpectedAnswer);
  });

  it('reports a stream cut before done as a lost connection', async () => {
    const cut = new TextEncoder().encode('event: token\ndata: {"text":"par"}\n\n');
    const seen: string[] = [];
    await expect(async () => {
      for await (const e of parseReplyStream(bytesStream([cut]))) seen.push(e.type);
    }).rejects.toBeInstanceOf(NetworkError);
    expect(seen).toEqual(['token']);
  });
});
