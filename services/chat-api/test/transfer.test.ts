import type { ExportFile, ImportResult } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  openSse,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({
  chat: { env: { BODY_LIMIT: '16kb', IMPORT_BODY_LIMIT: '256kb' } },
  users: ['alice', 'bob'],
});

async function say(user: TestUser, conversationId: string, content: string) {
  const events = await (
    await openSse(`${stack.chat.url}/api/conversations/${conversationId}/messages`, user.token, { content })
  ).rest();
  expect(events.at(-1)?.event).toBe('done');
}

async function exportAll(user: TestUser): Promise<ExportFile> {
  const res = await request(stack.chat.url)
    .get('/api/conversations/export')
    .set(bearer(user.token))
    .expect(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="corral-conversations-/);
  return JSON.parse(res.text) as ExportFile;
}

async function importFile(user: TestUser, file: unknown) {
  return request(stack.chat.url)
    .post('/api/conversations/import')
    .set(bearer(user.token))
    .send(file as object);
}

async function currentBranch(user: TestUser, id: string): Promise<string[]> {
  const res = await request(stack.chat.url)
    .get(`/api/conversations/${id}/messages`)
    .set(bearer(user.token))
    .expect(200);
  return (res.body as { items: Array<{ content: string }> }).items.map((m) => m.content);
}

const withoutExportedAt = (file: ExportFile) => ({ ...file, exportedAt: undefined });

describe('export and import: happy path', () => {
  it('round-trips every conversation with all branches, ids kept, and a second import changes nothing', async () => {
    const user = await signUp();
    const trip = await createConversation(stack.chat, user, {
      title: 'Trip',
      tags: ['travel'],
      systemPrompt: 'Be brief.',
    });
    await say(user, trip.id, 'Where to go in May?');
    await say(user, trip.id, 'And in June?');
    const notes = await createConversation(stack.chat, user);
    await say(user, notes.id, 'Remember the milk');
    const messages = await request(stack.chat.url)
      .get(`/api/conversations/${notes.id}/messages`)
      .set(bearer(user.token))
      .expect(200);
    const answer = (messages.body as { items: Array<{ id: string }> }).items[1]!;
    await (
      await openSse(
        `${stack.chat.url}/api/conversations/${notes.id}/messages/${answer.id}/regenerate`,
        user.token,
        {
          model: 'qwen2.5',
        },
      )
    ).rest();

    const exported = await exportAll(user);
    expect(exported).toMatchObject({ format: 'corral.conversations', version: 1 });
    expect(exported.conversations.map((c) => c.id).sort()).toEqual([trip.id, notes.id].sort());
    const exportedNotes = exported.conversations.find((c) => c.id === notes.id)!;
    expect(exportedNotes.messages).toHaveLength(3); // question, first answer, regenerated answer
    const tripBefore = await currentBranch(user, trip.id);
    const notesBefore = await currentBranch(user, notes.id);

    // Lose everything, then restore from the file.
    await request(stack.chat.url).delete(`/api/conversations/${trip.id}`).set(bearer(user.token)).expect(204);
    await request(stack.chat.url)
      .delete(`/api/conversations/${notes.id}`)
      .set(bearer(user.token))
      .expect(204);
    const restored = await importFile(user, exported);
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body).toEqual({
      imported: 2,
      skipped: 0,
      renamed: [],
      messages: 7,
      folders: 0,
      prompts: 0,
      assistants: 0,
    } satisfies ImportResult);
    expect(await currentBranch(user, trip.id)).toEqual(tripBefore);
    expect(await currentBranch(user, notes.id)).toEqual(notesBefore);
    expect(withoutExportedAt(await exportAll(user))).toEqual(withoutExportedAt(exported));

    // Idempotent by conversation id: importing the same file again adds nothing.
    const again = await importFile(user, exported);
    expect(again.body).toMatchObject({ imported: 0, skipped: 2 });
    expect((await exportAll(user)).conversations).toHaveLength(2);
  });

  it('exports one conversation in the same format, which another user imports under new ids', async () => {
    const conversation = await createConversation(stack.chat, stack.alice, { title: 'Recipes' });
    await say(stack.alice, conversation.id, 'How do I bake bread?');
    const res = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}/export`)
      .set(bearer(stack.alice.token))
      .expect(200);
    const file = JSON.parse(res.text) as ExportFile;
    expect(file.conversations).toHaveLength(1);
    expect(file.conversations[0]).toMatchObject({ id: conversation.id, title: 'Recipes' });

    const imported = await importFile(stack.bob, file);
    expect(imported.status, imported.text).toBe(200);
    const result = imported.body as ImportResult;
    expect(result).toMatchObject({ imported: 1, skipped: 0, messages: 2 });
    expect(result.renamed).toEqual([{ from: conversation.id, to: expect.any(String) }]);
    const copy = result.renamed[0]!.to;
    expect(copy).not.toBe(conversation.id);
    expect(await currentBranch(stack.bob, copy)).toEqual(await currentBranch(stack.alice, conversation.id));
    // Alice's conversation is untouched and still hers alone.
    await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.bob.token))
      .expect(404);
    const hers = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}`)
      .set(bearer(stack.alice.token))
      .expect(200);
    expect(hers.body.conversation.title).toBe('Recipes');
  });

  it('streams an export larger than one batch as valid JSON', async () => {
    const user = await signUp();
    const count = 450;
    await stack.chat.ctx.db.prisma.conversation.createMany({
      data: Array.from({ length: count }, (_, i) => ({
        userId: user.id,
        title: `bulk ${i}`,
        model: 'llama3.2',
      })),
    });
    const res = await request(stack.chat.url)
      .get('/api/conversations/export')
      .set(bearer(user.token))
      .expect(200);
    expect(res.headers['content-length']).toBeUndefined(); // streamed, not buffered
    const file = JSON.parse(res.text) as ExportFile;
    expect(file.conversations).toHaveLength(count);
    expect(new Set(file.conversations.map((c) => c.id)).size).toBe(count);
  });

  it('accepts an import larger than BODY_LIMIT, up to IMPORT_BODY_LIMIT', async () => {
    const user = await signUp();
    const file = {
      format: 'corral.conversations',
      version: 1,
      conversations: [bigConversation(crypto.randomUUID(), 100_000)],
    };
    const res = await importFile(user, file);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ imported: 1, messages: 1 });
  });
});

function bigConversation(id: string, chars: number) {
  const messageId = crypto.randomUUID();
  const at = new Date().toISOString();
  return {
    id,
    title: 'big',
    model: 'llama3.2',
    systemPrompt: null,
    tags: [],
    pinned: false,
    archived: false,
    currentMessageId: messageId,
    createdAt: at,
    updatedAt: at,
    messages: [
      {
        id: messageId,
        parentId: null as string | null,
        role: 'user',
        content: 'x'.repeat(chars),
        model: null,
        status: 'complete',
        error: null,
        promptTokens: null,
        completionTokens: null,
        durationMs: null,
        createdAt: at,
        updatedAt: at,
      },
    ],
  };
}

describe('export and import: error paths', () => {
  it('refuses a file that is not an export, or whose messages point nowhere, naming the field', async () => {
    expectProblem(await importFile(stack.alice, { conversations: [] }), 400, 'validation_failed');
    const broken = bigConversation(crypto.randomUUID(), 10);
    broken.messages[0]!.parentId = crypto.randomUUID();
    const res = await importFile(stack.alice, {
      format: 'corral.conversations',
      version: 1,
      conversations: [broken],
    });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.errors[0].path).toBe('body.conversations.0.messages.0.parentId');
  });

  it('answers 413 above IMPORT_BODY_LIMIT, and BODY_LIMIT still applies elsewhere', async () => {
    const file = {
      format: 'corral.conversations',
      version: 1,
      conversations: [bigConversation(crypto.randomUUID(), 300_000)],
    };
    expectProblem(await importFile(stack.alice, file), 413, 'payload_too_large');
    const conversation = await createConversation(stack.chat, stack.alice);
    expectProblem(
      await request(stack.chat.url)
        .patch(`/api/conversations/${conversation.id}`)
        .set(bearer(stack.alice.token))
        .send({ systemPrompt: 'y'.repeat(20_000) }),
      413,
      'payload_too_large',
    );
  });
});

describe('export and import: security', () => {
  it('needs a token, and never exports another user’s conversation', async () => {
    expectProblem(await request(stack.chat.url).get('/api/conversations/export'), 401, 'unauthorized');
    expectProblem(
      await request(stack.chat.url)
        .post('/api/conversations/import')
        .send({ format: 'corral.conversations' }),
      401,
      'unauthorized',
    );
    const conversation = await createConversation(stack.chat, stack.alice);
    expectProblem(
      await request(stack.chat.url)
        .get(`/api/conversations/${conversation.id}/export`)
        .set(bearer(stack.bob.token)),
      404,
      'not_found',
    );
    const bobs = await exportAll(stack.bob);
    expect(bobs.conversations.map((c) => c.id)).not.toContain(conversation.id);
  });

  it('does not read a body over IMPORT_BODY_LIMIT before the caller is authenticated', async () => {
    const res = await request(stack.chat.url)
      .post('/api/conversations/import')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'z'.repeat(300_000) }));
    expectProblem(res, 401, 'unauthorized');
  });
});
