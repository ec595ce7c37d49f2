import { describe, expect, it } from 'vitest';
import { allMessages } from '../src/data/conversations.js';
import {
  createConversation,
  openSse,
  readUntil,
  startChat,
  type TestChat,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ chat: false, users: ['user'] });
const schema = stack.schema();

const spawnChat = () => stack.spawnChatProcess({ schema, env: { STREAM_FLUSH_INTERVAL_MS: '20' } });

describe('a chat-api process killed mid-stream', () => {
  it(
    'leaves the user message and an interrupted reply with its partial text after a restart',
    { timeout: 60_000 },
    async () => {
      stack.sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
      const first = await spawnChat();
      const chatView = { url: first.url } as TestChat;
      const conversation = await createConversation(chatView, stack.user);
      const stream = await openSse(
        `${first.url}/api/conversations/${conversation.id}/messages`,
        stack.user.token,
        {
          content: 'Write a long essay',
        },
      );
      const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
        assistantMessage: { id: string };
      };
      await readUntil(stream, 'token');

      // A second replica, to read the database (its sweep leaves live replies alone: they are fresh).
      const restarted = await startChat(stack.sim, { schema });
      try {
        // Read as the API reads it: a reply being written keeps its text in chunk rows until saved.
        const saved = async () => {
          const messages = await allMessages(restarted.ctx.db, conversation.id);
          return messages.find((m) => m.id === start.assistantMessage.id)!;
        };
        // Wait until a batch of the reply reached the database, then kill the process without warning.
        await expect.poll(async () => (await saved()).content.length, { timeout: 10_000 }).toBeGreaterThan(0);
        await first.kill();
        stream.abort();
        expect((await saved()).status).toBe('streaming');

        // The sweep runs at start-up; here nothing stale may survive, so the orphan is found at once.
        const again = await startChat(stack.sim, { schema, env: { STREAM_STALE_SECONDS: '0' } });
        await again.close();
        const reply = await saved();
        expect(reply.status).toBe('interrupted');
        expect(reply.content.length).toBeGreaterThan(0);
        const question = await restarted.ctx.db.prisma.message.findFirstOrThrow({
          where: { conversationId: conversation.id, role: 'user' },
        });
        expect(question).toMatchObject({ content: 'Write a long essay', status: 'complete' });
      } finally {
        await restarted.close();
        stack.sim.setOptions({ tokensPerSecond: 0, responseTokens: 24 });
      }
    },
  );
});
