import { deflateSync } from 'node:zlib';
import { type ExportFile, messageList, usageResponse, userLimitsResponse } from '@corral/contracts';
import request from 'supertest';
import { deleteUnsentAttachments } from '../src/data/attachments.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createConversation,
  expectProblem,
  openSse,
  readUntil,
  signUp,
  type TestUser,
  useChatApiStack,
} from './helpers.js';

// Images attached to messages in the web chat: stored in PostgreSQL, sent to the vision model,
// given back to their owner only, within ATTACHMENT_MAX_BYTES and the per-user storage quota.
const stack = useChatApiStack({
  chat: { env: { ATTACHMENT_MAX_BYTES: '700kb', DEFAULT_STORAGE_QUOTA_MB: '5' } },
  users: ['owner', 'stranger'],
  admin: true,
});

/** A 1×1 PNG, as a browser's screenshot paste would give (a real image the sim decodes). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** A real PNG of about `bytes` bytes (one row of incompressible noise in a stored zlib block). */
function bigPng(bytes: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const width = Math.floor(bytes / 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(Array.from({ length: width * 3 }, (_, i) => (i * 7919) % 251)),
  ]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(row, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const upload = (user: TestUser, conversationId: string, bytes: Buffer, name = 'shot.png') =>
  request(stack.chat.url)
    .post(`/api/conversations/${conversationId}/attachments`)
    .query({ name })
    .set(bearer(user.token))
    .set('Content-Type', 'application/octet-stream')
    .send(bytes);

const storage = async (user: TestUser) =>
  usageResponse.parse(
    (await request(stack.chat.url).get('/api/usage').set(bearer(user.token)).expect(200)).body,
  ).storage;

async function sendWithImages(
  user: TestUser,
  conversationId: string,
  content: string,
  attachmentIds: string[],
) {
  const stream = await openSse(`${stack.chat.url}/api/conversations/${conversationId}/messages`, user.token, {
    content,
    attachmentIds,
  });
  const start = await readUntil(stream, 'start');
  const done = await readUntil(stream, 'done');
  const text = done.before
    .filter((e) => e.event === 'token')
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('');
  return { status: stream.status, start: JSON.parse(start.event.data) as Record<string, unknown>, text };
}

beforeAll(() => {
  stack.sim.addModel('llava');
  stack.sim.addModel('qwen3');
});

describe('attachments: the happy path', () => {
  it('stores a pasted image, sends it to the vision model and shows it after a reload', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'llava' });
    const uploaded = await upload(stack.owner, conversation.id, PNG, 'paste "1".png');
    expect(uploaded.status, uploaded.text).toBe(201);
    const attachment = (
      uploaded.body as { attachment: { id: string; contentType: string; size: number; name: string } }
    ).attachment;
    expect(attachment).toMatchObject({ contentType: 'image/png', size: PNG.length, name: 'paste _1_.png' });

    const reply = await sendWithImages(stack.owner, conversation.id, 'What is in this picture?', [
      attachment.id,
    ]);
    expect(reply.status).toBe(200);
    // The sim's vision model says how many images reached it: the bytes went to Ollama as `images`.
    expect(reply.text).toMatch(/^I see 1 image\./);
    expect((reply.start.userMessage as { attachments: unknown[] }).attachments).toEqual([attachment]);

    const listing = messageList.parse(
      (
        await request(stack.chat.url)
          .get(`/api/conversations/${conversation.id}/messages`)
          .set(bearer(stack.owner.token))
          .expect(200)
      ).body,
    );
    const question = listing.items.find((m) => m.role === 'user')!;
    expect(question.attachments).toEqual([attachment]);
    expect(listing.items.find((m) => m.role === 'assistant')!.content).toMatch(/^I see 1 image\./);

    const image = await request(stack.chat.url)
      .get(`/api/conversations/${conversation.id}/attachments/${attachment.id}`)
      .set(bearer(stack.owner.token))
      .buffer(true)
      .parse((res, done) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => done(null, Buffer.concat(parts)));
      });
    expect(image.status).toBe(200);
    expect(Buffer.compare(image.body as Buffer, PNG)).toBe(0);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['x-content-type-options']).toBe('nosniff');
    expect(image.headers['content-disposition']).toBe('inline; filename="paste _1_.png"');

    // The image counts toward its owner's storage.
    const used = (await storage(stack.owner)).usedBytes;
    expect(used).toBeGreaterThanOrEqual(PNG.length);

    // An edited question keeps its image: the new reply sees it too (a copy, within the quota).
    const edit = await openSse(
      `${stack.chat.url}/api/conversations/${conversation.id}/messages/${question.id}/edit`,
      stack.owner.token,
      { content: 'And now, what is in it?' },
    );
    const editStart = JSON.parse((await readUntil(edit, 'start')).event.data) as {
      userMessage: { attachments: { id: string; size: number }[] };
    };
    const edited = await readUntil(edit, 'done');
    expect(
      edited.before
        .filter((e) => e.event === 'token')
        .map((e) => (JSON.parse(e.data) as { text: string }).text)
        .join(''),
    ).toMatch(/^I see 1 image\./);
    expect(editStart.userMessage.attachments).toHaveLength(1);
    expect(editStart.userMessage.attachments[0]!.id).not.toBe(attachment.id);
    expect((await storage(stack.owner)).usedBytes).toBe(used + PNG.length);
  });

  it('streams a thinking model’s reasoning as `thinking` events, apart from the answer', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'qwen3' });
    const stream = await openSse(
      `${stack.chat.url}/api/conversations/${conversation.id}/messages`,
      stack.owner.token,
      {
        content: 'Think first',
      },
    );
    const { before } = await readUntil(stream, 'done');
    const names = before.map((e) => e.event);
    expect(names).toContain('thinking');
    expect(names.indexOf('thinking')).toBeLessThan(names.indexOf('token'));
    const thinking = before
      .filter((e) => e.event === 'thinking')
      .map((e) => (JSON.parse(e.data) as { text: string }).text)
      .join('');
    const listing = messageList.parse(
      (
        await request(stack.chat.url)
          .get(`/api/conversations/${conversation.id}/messages`)
          .set(bearer(stack.owner.token))
          .expect(200)
      ).body,
    );
    const answer = listing.items.find((m) => m.role === 'assistant')!.content;
    expect(thinking.length).toBeGreaterThan(0);
    expect(answer).not.toContain(thinking);
  });

  it('lists each model’s capabilities, so the web offers images only to vision models', async () => {
    const res = await request(stack.chat.url).get('/api/models').set(bearer(stack.owner.token)).expect(200);
    const items = (res.body as { items: { name: string; capabilities: string[] }[] }).items;
    expect(items.find((m) => m.name.startsWith('llava'))?.capabilities).toContain('vision');
    expect(items.find((m) => m.name.startsWith('qwen3'))?.capabilities).toContain('thinking');
    expect(items.find((m) => m.name.startsWith('llama3.2'))?.capabilities).not.toContain('vision');
  });

  it('carries images through export and import, and deleting the conversation frees the storage', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user, { model: 'llava' });
    const { attachment } = (await upload(user, conversation.id, PNG).expect(201)).body as {
      attachment: { id: string };
    };
    // An image alone is a message: the text may be empty.
    const alone = await sendWithImages(user, conversation.id, '', [attachment.id]);
    expect(alone.text).toMatch(/^I see 1 image\./);
    const exported = (
      await request(stack.chat.url)
        .get(`/api/conversations/${conversation.id}/export`)
        .set(bearer(user.token))
        .expect(200)
    ).body as ExportFile;
    const files = exported.conversations[0]!.messages.flatMap((m) => m.attachments ?? []);
    expect(files).toHaveLength(1);
    expect(Buffer.from(files[0]!.data, 'base64').equals(PNG)).toBe(true);

    const importer = await signUp();
    const imported = await request(stack.chat.url)
      .post('/api/conversations/import')
      .set(bearer(importer.token))
      .send(exported);
    expect(imported.status, imported.text).toBe(200);
    const newId = (imported.body as { renamed: { to: string }[] }).renamed[0]!.to;
    const listing = messageList.parse(
      (await request(stack.chat.url).get(`/api/conversations/${newId}/messages`).set(bearer(importer.token)))
        .body,
    );
    const copy = listing.items.find((m) => m.role === 'user')!.attachments[0]!;
    expect(copy.contentType).toBe('image/png');
    await request(stack.chat.url)
      .get(`/api/conversations/${newId}/attachments/${copy.id}`)
      .set(bearer(importer.token))
      .expect(200);
    expect((await storage(importer)).usedBytes).toBe(PNG.length);

    expect((await storage(user)).usedBytes).toBe(PNG.length);
    await request(stack.chat.url)
      .delete(`/api/conversations/${conversation.id}`)
      .set(bearer(user.token))
      .expect(204);
    expect((await storage(user)).usedBytes).toBe(0);
  });
});

describe('attachments: uploads never sent', () => {
  it('are deleted by the sweep once older than a day; recent ones and sent ones stay', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user, { model: 'llava' });
    const fresh = (
      (await upload(user, conversation.id, PNG).expect(201)).body as { attachment: { id: string } }
    ).attachment.id;
    const stale = (
      (await upload(user, conversation.id, PNG).expect(201)).body as { attachment: { id: string } }
    ).attachment.id;
    const sent = (
      (await upload(user, conversation.id, PNG).expect(201)).body as { attachment: { id: string } }
    ).attachment.id;
    await sendWithImages(user, conversation.id, 'one', [sent]);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await stack.chat.ctx.db.pool.query('UPDATE attachments SET created_at = $1 WHERE id = ANY($2::uuid[])', [
      twoDaysAgo,
      [stale, sent],
    ]);
    expect(await deleteUnsentAttachments(stack.chat.ctx.db, new Date(Date.now() - 86_400_000))).toBe(1);
    const left = await stack.chat.ctx.db.prisma.attachment.findMany({
      where: { conversationId: conversation.id },
      select: { id: true },
    });
    expect(left.map((a) => a.id).sort()).toEqual([fresh, sent].sort());
  });
});

describe('attachments: bad input', () => {
  it('answers an oversized file with 413 naming ATTACHMENT_MAX_BYTES, and stores nothing', async () => {
    const user = await signUp();
    const conversation = await createConversation(stack.chat, user, { model: 'llava' });
    const res = await upload(user, conversation.id, bigPng(800 * 1024));
    expectProblem(res, 413, 'payload_too_large');
    expect((res.body as { detail: string }).detail).toContain('ATTACHMENT_MAX_BYTES');
    expect((await storage(user)).usedBytes).toBe(0);
  });

  it('refuses an empty message without images', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'llava' });
    const res = await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(stack.owner.token))
      .send({ content: '  ' });
    expectProblem(res, 400, 'validation_failed');
    expect((res.body as { detail: string }).detail).toContain('body.content: must not be empty');
  });

  it('answers a file that is not an image with 400, whatever its name says', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'llava' });
    const res = await upload(
      stack.owner,
      conversation.id,
      Buffer.from('<html><script>alert(1)</script>'),
      'x.png',
    );
    expectProblem(res, 400, 'bad_request');
    expect((res.body as { detail: string }).detail).toContain('only images');
    expectProblem(await upload(stack.owner, conversation.id, PNG, 'x'.repeat(300)), 400, 'validation_failed');
  });

  it('refuses an upload past the storage quota with 413 and the numbers, storing nothing', async () => {
    const user = await signUp();
    const set = await request(stack.chat.url)
      .put(`/api/admin/users/${user.id}/limits`)
      .set(bearer(stack.admin.token))
      .send({ storageQuotaMb: 1 });
    expect(set.status, set.text).toBe(200);
    expect(userLimitsResponse.parse(set.body).effective.storageQuotaMb).toBe(1);
    const conversation = await createConversation(stack.chat, user, { model: 'llava' });
    const image = bigPng(600 * 1024);
    await upload(user, conversation.id, image).expect(201);
    const refused = await upload(user, conversation.id, image);
    expectProblem(refused, 413, 'storage_quota_exceeded');
    expect(refused.body).toMatchObject({
      usedBytes: image.length,
      quotaBytes: 1024 * 1024,
      size: image.length,
    });
    expect(await storage(user)).toEqual({ usedBytes: image.length, quotaBytes: 1024 * 1024 });

    // Admins see what the user stores.
    const seen = await request(stack.chat.url)
      .get(`/api/admin/users/${user.id}/limits`)
      .set(bearer(stack.admin.token))
      .expect(200);
    expect(userLimitsResponse.parse(seen.body).storageUsedBytes).toBe(image.length);
  });

  it('refuses images for a model without vision, naming it', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'llama3.2' });
    const { attachment } = (await upload(stack.owner, conversation.id, PNG).expect(201)).body as {
      attachment: { id: string };
    };
    const res = await request(stack.chat.url)
      .post(`/api/conversations/${conversation.id}/messages`)
      .set(bearer(stack.owner.token))
      .send({ content: 'see?', attachmentIds: [attachment.id] });
    expectProblem(res, 400, 'bad_request');
    expect((res.body as { detail: string }).detail).toContain('llama3.2');
  });
});

describe('attachments: who may read them', () => {
  it('gives an image to its owner only, and only under its own conversation', async () => {
    const conversation = await createConversation(stack.chat, stack.owner, { model: 'llava' });
    const other = await createConversation(stack.chat, stack.owner, { model: 'llava' });
    const { attachment } = (await upload(stack.owner, conversation.id, PNG).expect(201)).body as {
      attachment: { id: string };
    };
    const path = (conversationId: string) =>
      `/api/conversations/${conversationId}/attachments/${attachment.id}`;
    await request(stack.chat.url).get(path(conversation.id)).set(bearer(stack.owner.token)).expect(200);
    expectProblem(
      await request(stack.chat.url).get(path(other.id)).set(bearer(stack.owner.token)),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.chat.url).get(path(conversation.id)).set(bearer(stack.stranger.token)),
      404,
      'not_found',
    );
    expectProblem(await request(stack.chat.url).get(path(conversation.id)), 401, 'unauthorized');
    // Nor can another conversation's message, or another user, send it.
    const res = await request(stack.chat.url)
      .post(`/api/conversations/${other.id}/messages`)
      .set(bearer(stack.owner.token))
      .send({ content: 'steal', attachmentIds: [attachment.id] });
    expectProblem(res, 400, 'bad_request');
    expectProblem(await upload(stack.stranger, conversation.id, PNG), 404, 'not_found');
  });
});
