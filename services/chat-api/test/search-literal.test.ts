import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { bearer, createConversation, useChatApiStack } from './helpers.js';

const stack = useChatApiStack({ users: ['user'] });

describe('search (?q=)', () => {
  it('matches `%`, `_` and `\\` literally, not as LIKE wildcards or escapes', async () => {
    for (const title of ['100% sure', 'snake_case names', 'C:\\Users\\me', 'plain title', 'another one'])
      await createConversation(stack.chat, stack.user, { title });
    const search = async (q: string) => {
      const res = await request(stack.chat.url)
        .get('/api/conversations')
        .query({ q })
        .set(bearer(stack.user.token))
        .expect(200);
      return (res.body as { items: Array<{ title: string }> }).items.map((c) => c.title).sort();
    };
    expect(await search('%')).toEqual(['100% sure']);
    expect(await search('_')).toEqual(['snake_case names']);
    expect(await search('\\')).toEqual(['C:\\Users\\me']);
    expect(await search('0%_')).toEqual([]);
    expect(await search('e_c')).toEqual(['snake_case names']);
    expect(await search('plain')).toEqual(['plain title']);
  });
});
