import type { Conversation, ExportFile, Folder, FolderList } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

const stack = useChatApiStack({ chat: { env: { MAX_FOLDERS_PER_USER: '3' } } });

const api = () => request(stack.chat.url);

async function makeFolder(user: TestUser, name: string): Promise<Folder> {
  const res = await api().post('/api/folders').set(bearer(user.token)).send({ name });
  expect(res.status, res.text).toBe(201);
  expect(res.headers.location).toBe(`/api/folders/${(res.body as { folder: Folder }).folder.id}`);
  return (res.body as { folder: Folder }).folder;
}

const folders = async (user: TestUser) =>
  (await api().get('/api/folders').set(bearer(user.token)).expect(200)).body as FolderList;

const move = (user: TestUser, conversationId: string, folderId: string | null) =>
  api().put(`/api/conversations/${conversationId}/folder`).set(bearer(user.token)).send({ folderId });

async function conversationsOf(user: TestUser): Promise<Conversation[]> {
  return (
    (await api().get('/api/conversations').set(bearer(user.token)).expect(200)).body as {
      items: Conversation[];
    }
  ).items;
}

describe('folders: happy path', () => {
  it('creates, lists, renames; a conversation moved in shows its folder, and deleting the folder unfiles it', async () => {
    const user = await signUp();
    const work = await makeFolder(user, '  Work  ');
    expect(work.name).toBe('Work');
    const home = await makeFolder(user, 'Home');
    expect(await folders(user)).toEqual({ items: [work, home], limit: 3 });

    const renamed = await api()
      .patch(`/api/folders/${home.id}`)
      .set(bearer(user.token))
      .send({ name: 'House' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.folder).toMatchObject({ id: home.id, name: 'House' });

    const chat = await createConversation(stack.chat, user, { title: 'Quarterly plan' });
    const before = (await conversationsOf(user))[0]!;
    expect(before.folderId).toBeNull();
    const moved = await move(user, chat.id, work.id);
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.conversation).toMatchObject({ id: chat.id, folderId: work.id });
    // Filing is not activity: the list order (updatedAt) is kept.
    expect(moved.body.conversation.updatedAt).toBe(before.updatedAt);
    expect((await conversationsOf(user))[0]!.folderId).toBe(work.id);

    await api().delete(`/api/folders/${work.id}`).set(bearer(user.token)).expect(204);
    const after = await conversationsOf(user);
    expect(after.map((c) => [c.id, c.folderId])).toEqual([[chat.id, null]]);
    expect((await folders(user)).items.map((f) => f.name)).toEqual(['House']);

    await move(user, chat.id, home.id).expect(200);
    await move(user, chat.id, null).expect(200);
    expect((await conversationsOf(user))[0]!.folderId).toBeNull();
  });

  it('?filed=true lists only conversations in a folder, ?filed=false only the others, in list and search alike', async () => {
    const user = await signUp();
    const work = await makeFolder(user, 'Work');
    const filed = await createConversation(stack.chat, user, { title: 'Budget filed' });
    const loose = await createConversation(stack.chat, user, { title: 'Budget loose' });
    await move(user, filed.id, work.id).expect(200);
    const ids = async (query: Record<string, string>) =>
      (
        (await api().get('/api/conversations').query(query).set(bearer(user.token)).expect(200)).body as {
          items: Conversation[];
        }
      ).items.map((c) => c.id);
    expect(await ids({ filed: 'true' })).toEqual([filed.id]);
    expect(await ids({ filed: 'false' })).toEqual([loose.id]);
    expect(await ids({})).toEqual([loose.id, filed.id]);
    expect(await ids({ q: 'Budget', filed: 'true' })).toEqual([filed.id]);
    expect(await ids({ q: 'Budget', filed: 'false' })).toEqual([loose.id]);
    const bad = await api().get('/api/conversations').query({ filed: 'yes' }).set(bearer(user.token));
    expectProblem(bad, 400, 'validation_failed');
    expect(JSON.stringify(bad.body)).toContain('filed');
  });

  it('the export carries folders and filing; an import into another account recreates them', async () => {
    const alice = await signUp();
    const folder = await makeFolder(alice, 'Research');
    const filed = await createConversation(stack.chat, alice, { title: 'Filed' });
    await createConversation(stack.chat, alice, { title: 'Loose' });
    await move(alice, filed.id, folder.id).expect(200);
    const file = JSON.parse(
      (await api().get('/api/conversations/export').set(bearer(alice.token)).expect(200)).text,
    ) as ExportFile;
    expect(file.folders).toEqual([folder]);
    expect(file.conversations.find((c) => c.id === filed.id)?.folderId).toBe(folder.id);

    // Into the same account again: nothing new.
    const again = await api()
      .post('/api/conversations/import')
      .set(bearer(alice.token))
      .send(file)
      .expect(200);
    expect(again.body).toMatchObject({ imported: 0, skipped: 2, folders: 0 });

    const bob = await signUp();
    const res = await api().post('/api/conversations/import').set(bearer(bob.token)).send(file);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ imported: 2, folders: 1 });
    const bobsFolders = (await folders(bob)).items;
    expect(bobsFolders.map((f) => f.name)).toEqual(['Research']);
    expect(bobsFolders[0]!.id).not.toBe(folder.id);
    const bobsConversations = await conversationsOf(bob);
    expect(bobsConversations.find((c) => c.title === 'Filed')?.folderId).toBe(bobsFolders[0]!.id);
    expect(bobsConversations.find((c) => c.title === 'Loose')?.folderId).toBeNull();
  });
});

describe('folders: bad input and limits', () => {
  it('refuses blank, over-long and extra-field names', async () => {
    const user = await signUp();
    for (const body of [{ name: '   ' }, { name: 'x'.repeat(101) }, { name: 'ok', colour: 'red' }, {}]) {
      expectProblem(
        await api().post('/api/folders').set(bearer(user.token)).send(body),
        400,
        'validation_failed',
      );
    }
    expect((await folders(user)).items).toEqual([]);
  });

  it('refuses a folder over MAX_FOLDERS_PER_USER with 409 naming it, and an import that would pass it', async () => {
    const user = await signUp();
    for (const name of ['a', 'b', 'c']) await makeFolder(user, name);
    const res = await api().post('/api/folders').set(bearer(user.token)).send({ name: 'd' });
    expectProblem(res, 409, 'conflict');
    expect(res.body.detail).toContain('MAX_FOLDERS_PER_USER');
    expect(res.body.limit).toBe(3);

    const now = new Date().toISOString();
    const file = {
      format: 'corral.conversations',
      version: 1,
      folders: [
        { id: '7d4c1a52-64c5-4a9e-9a43-6a5c3c2b7e11', name: 'one more', createdAt: now, updatedAt: now },
      ],
      conversations: [],
    };
    expectProblem(
      await api().post('/api/conversations/import').set(bearer(user.token)).send(file),
      409,
      'conflict',
    );
    expect((await folders(user)).items).toHaveLength(3);
  });

  it('refuses a folderId that is not a uuid, names no folder, or a file whose conversation names a missing folder', async () => {
    const user = await signUp();
    const chat = await createConversation(stack.chat, user);
    expectProblem(await move(user, chat.id, 'nope'), 400, 'validation_failed');
    expectProblem(await move(user, chat.id, '7d4c1a52-64c5-4a9e-9a43-6a5c3c2b7e11'), 404, 'not_found');
    expectProblem(
      await api().patch('/api/folders/not-a-uuid').set(bearer(user.token)).send({ name: 'x' }),
      404,
      'not_found',
    );
    const now = new Date().toISOString();
    const file = {
      format: 'corral.conversations',
      version: 1,
      conversations: [
        {
          id: '2f0e0c7e-1b7a-4b1e-8f5e-4d2f6a9c1b33',
          title: 'x',
          model: 'llama3.2',
          systemPrompt: null,
          tags: [],
          pinned: false,
          archived: false,
          currentMessageId: null,
          folderId: '7d4c1a52-64c5-4a9e-9a43-6a5c3c2b7e11',
          createdAt: now,
          updatedAt: now,
          messages: [],
        },
      ],
    };
    expectProblem(
      await api().post('/api/conversations/import').set(bearer(user.token)).send(file),
      400,
      'validation_failed',
    );
  });
});

describe('folders: security', () => {
  it("needs a token; another user's folders and conversations are 404 to them", async () => {
    const alice = await signUp();
    const bob = await signUp();
    const folder = await makeFolder(alice, 'Private');
    const alicesChat = await createConversation(stack.chat, alice);
    const bobsChat = await createConversation(stack.chat, bob);

    expectProblem(await api().get('/api/folders'), 401, 'unauthorized');
    expectProblem(await api().post('/api/folders').send({ name: 'x' }), 401, 'unauthorized');
    expect((await folders(bob)).items).toEqual([]);
    expectProblem(
      await api().patch(`/api/folders/${folder.id}`).set(bearer(bob.token)).send({ name: 'mine' }),
      404,
      'not_found',
    );
    expectProblem(await api().delete(`/api/folders/${folder.id}`).set(bearer(bob.token)), 404, 'not_found');
    // Bob cannot file his conversation in Alice's folder, nor move Alice's conversation.
    expectProblem(await move(bob, bobsChat.id, folder.id), 404, 'not_found');
    expectProblem(await move(bob, alicesChat.id, null), 404, 'not_found');
    expect((await folders(alice)).items).toEqual([folder]);
  });
});
