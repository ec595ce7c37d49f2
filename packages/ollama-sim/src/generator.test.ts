import { describe, expect, it } from 'vitest';
import { expectedChatReply } from './expected.js';
import { simulatedEmbedding, simulatedReply } from './generator.js';

describe('simulatedReply', () => {
  it('is deterministic for model + prompt + seed, and the tag "latest" is implied', () => {
    const a = simulatedReply({ model: 'llama3.2', prompt: 'hi' });
    expect(simulatedReply({ model: 'llama3.2:latest', prompt: 'hi' })).toEqual(a);
    expect(simulatedReply({ model: 'llama3.2', prompt: 'hi', seed: 1 }).text).not.toBe(a.text);
    expect(simulatedReply({ model: 'llama3.2', prompt: 'hello' }).text).not.toBe(a.text);
  });

  it('emits word-like tokens, 24 by default, ending a sentence', () => {
    const reply = simulatedReply({ model: 'llama3.2', prompt: 'hi' });
    expect(reply.tokens).toHaveLength(24);
    expect(reply.doneReason).toBe('stop');
    expect(reply.text).toMatch(/^[A-Z][a-z]+/);
    for (const token of reply.tokens.slice(1)) expect(token).toMatch(/^( [A-Za-z]+|[.,])$/);
  });

  it('num_predict shortens the reply to a prefix and reports "length"', () => {
    const full = simulatedReply({ model: 'm', prompt: 'p' });
    const short = simulatedReply({ model: 'm', prompt: 'p', numPredict: 4 });
    expect(short.tokens).toEqual(full.tokens.slice(0, 4));
    expect(short.doneReason).toBe('length');
    expect(simulatedReply({ model: 'm', prompt: 'p', numPredict: 100 }).doneReason).toBe('stop');
    expect(simulatedReply({ model: 'm', prompt: 'p', numPredict: -1 }).tokens).toHaveLength(24);
  });

  it('format json gives a parseable document for any length', () => {
    for (const responseTokens of [1, 5, 24, 80]) {
      const reply = simulatedReply({ model: 'm', prompt: 'p', format: 'json', responseTokens });
      expect(JSON.parse(reply.text)).toMatchObject({ simulated: true });
    }
  });

  it('chat replies follow the last user message', () => {
    const messages = [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'second' },
    ];
    expect(expectedChatReply({ model: 'm', messages }).text).toBe(
      simulatedReply({ model: 'm', prompt: 'second' }).text,
    );
  });
});

describe('simulatedEmbedding', () => {
  it('is unit length, deterministic, and sized as asked', () => {
    const v = simulatedEmbedding('nomic-embed-text', 'x', 768);
    expect(v).toHaveLength(768);
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(simulatedEmbedding('nomic-embed-text', 'x', 768)).toEqual(v);
    expect(simulatedEmbedding('nomic-embed-text', 'y', 768)).not.toEqual(v);
  });
});
