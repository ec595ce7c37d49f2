import { describe, expect, it } from 'vitest';
import { parseReplyEvent } from './replies.js';

const at = '2026-12-08T00:00:00.000Z';
/** A message as a chat-api older than `reasoning` sends it (a rolling upgrade's old pods). */
const olderMessage = (id: string, role: 'user' | 'assistant') => ({
  id,
  conversationId: '00000000-0000-4000-8000-000000000001',
  parentId: null,
  role,
  content: role === 'user' ? 'hi' : '',
  model: 'llama3.2',
  status: role === 'user' ? 'complete' : 'streaming',
  error: null,
  promptTokens: null,
  completionTokens: null,
  durationMs: null,
  attachments: [],
  createdAt: at,
  updatedAt: at,
});

describe('reply events', () => {
  it('reads a start event from a chat-api that sends no reasoning: none, not a broken stream', () => {
    const event = parseReplyEvent('start', {
      conversationId: '00000000-0000-4000-8000-000000000001',
      userMessage: olderMessage('00000000-0000-4000-8000-000000000002', 'user'),
      assistantMessage: olderMessage('00000000-0000-4000-8000-000000000003', 'assistant'),
    });
    expect(event).toMatchObject({
      type: 'start',
      userMessage: { reasoning: null },
      assistantMessage: { reasoning: null },
    });
  });
});
