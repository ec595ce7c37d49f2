import { auditPage, modelListing, modelRemoval, poolModelListing } from '@corral/contracts';
import request from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { bearer, expectProblem, useChatApiStack } from './helpers.js';

const TOKEN = 'gateway-admin-service-token-0123456789abcdef';

// The real gateway in front of two sims, the real auth (its audit log), one admin and one user.
const stack = useChatApiStack({ sims: ['simA', 'simB'], gatewayToken: TOKEN, admin: true, users: ['user'] });

/** Pulls through chat-api and reads the NDJSON to its summary line. */
async function pull(model: string) {
  const res = await request(stack.chat.url)
    .post('/api/admin/models/pull')
    .set(bearer(stack.admin.token))
    .send({ model })
    .buffer(true)
    .parse((r, done) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString()));
      r.on('end', () => done(null, text));
    });
  expect(res.status).toBe(200);
  const lines = String(res.body).trim().split('\n');
  return JSON.parse(lines.at(-1)!) as { status: string };
}

const userModels = async () =>
  modelListing
    .parse((await request(stack.chat.url).get('/api/models').set(bearer(stack.user.token))).body)
    .items.map((m) => m.name);
const v1Models = async () =>
  (
    (await request(stack.chat.url).get('/v1/models').set(bearer(stack.user.token))).body as {
      data: Array<{ id: string }>;
    }
  ).data.map((m) => m.id);
const poolView = async () =>
  poolModelListing.parse(
    (await request(stack.chat.url).get('/api/admin/models').set(bearer(stack.admin.token)).expect(200)).body,
  ).items;
async function auditActions(action: string) {
  const res = await request(inject('authUrl'))
    .get('/api/auth/admin/audit')
    .query({ action })
    .set(bearer(stack.admin.token))
    .expect(200);
  return auditPage.parse(res.body).items;
}
const simTags = async (url: string) =>
  ((await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string }> }).models.map(
    (m) => m.name,
  );

describe('admin models: happy path', () => {
  it('models already in the pool stay available to users, undecided (an upgrade hides nothing)', async () => {
    const pool = await poolView();
    const llama = pool.find((m) => m.name === 'llama3.2:latest');
    expect(llama).toMatchObject({ availableToUsers: true, decided: false });
    expect(llama?.backends).toHaveLength(2);
    expect(await userModels()).toContain('llama3.2:latest');
  });

  it('a pulled model reaches users only once an admin enables it, and the switch is audited', async () => {
    expect((await pull('granite3.1-moe:1b')).status).toBe('success');
    expect((await poolView()).find((m) => m.name === 'granite3.1-moe:1b')).toMatchObject({
      availableToUsers: false,
      decided: true,
    });
    expect(await userModels()).not.toContain('granite3.1-moe:1b');
    expect(await v1Models()).not.toContain('granite3.1-moe:1b');
    const refused = await request(stack.chat.url)
      .post('/v1/chat/completions')
      .set(bearer(stack.user.token))
      .send({ model: 'granite3.1-moe:1b', messages: [{ role: 'user', content: 'hi' }] });
    expect(refused.status).toBe(404);

    const enabled = await request(stack.chat.url)
      .put(`/api/admin/models/${encodeURIComponent('granite3.1-moe:1b')}/availability`)
      .set(bearer(stack.admin.token))
      .send({ availableToUsers: true })
      .expect(200);
    expect(enabled.body).toMatchObject({ name: 'granite3.1-moe:1b', availableToUsers: true });
    expect(await userModels()).toContain('granite3.1-moe:1b');
    expect(await v1Models()).toContain('granite3.1-moe:1b');

    const [event] = await auditActions('model.availability_changed');
    expect(event).toMatchObject({
      actorId: stack.admin.id,
      targetType: 'model',
      targetId: 'granite3.1-moe:1b',
      details: { availableToUsers: true },
    });
    expect((await auditActions('model.pulled')).map((e) => e.targetId)).toContain('granite3.1-moe:1b');
  });

  it('removes a model from every backend, audited; a later pull starts hidden again', async () => {
    await pull('smollm2:135m');
    await request(stack.chat.url)
      .put(`/api/admin/models/${encodeURIComponent('smollm2:135m')}/availability`)
      .set(bearer(stack.admin.token))
      .send({ availableToUsers: true })
      .expect(200);
    const res = await request(stack.chat.url)
      .delete(`/api/admin/models/${encodeURIComponent('smollm2:135m')}`)
      .set(bearer(stack.admin.token))
      .expect(200);
    const removal = modelRemoval.parse(res.body);
    expect(removal.status).toBe('removed');
    expect(removal.backends.map((b) => b.status)).toEqual(['removed', 'removed']);
    expect(await simTags(stack.simA.url)).not.toContain('smollm2:135m');
    expect(await simTags(stack.simB.url)).not.toContain('smollm2:135m');
    expect((await poolView()).map((m) => m.name)).not.toContain('smollm2:135m');
    expect(await userModels()).not.toContain('smollm2:135m');
    const [event] = await auditActions('model.removed');
    expect(event).toMatchObject({ targetId: 'smollm2:135m', outcome: 'success', actorId: stack.admin.id });

    await pull('smollm2:135m');
    expect((await poolView()).find((m) => m.name === 'smollm2:135m')?.availableToUsers).toBe(false);
  });
});

describe('admin models: error paths', () => {
  it('refuses a pull whose name Ollama would refuse, naming the field, before the gateway', async () => {
    const res = await request(stack.chat.url)
      .post('/api/admin/models/pull')
      .set(bearer(stack.admin.token))
      .send({ model: 'definitely not a model!!' });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: 'body.model', message: expect.stringMatching(/Ollama model name/) }),
    ]);
    expect((await poolView()).map((m) => m.name)).not.toContain('definitely not a model!!');
  });

  it('removing a model no backend holds is a 404 (audited as a failure); a bad name a 400', async () => {
    const res = await request(stack.chat.url)
      .delete('/api/admin/models/no-such-model')
      .set(bearer(stack.admin.token));
    expectProblem(res, 404, 'not_found');
    expect((await auditActions('model.removed'))[0]).toMatchObject({
      targetId: 'no-such-model:latest',
      outcome: 'failure',
    });
    expectProblem(
      await request(stack.chat.url).delete('/api/admin/models/-bad%20name').set(bearer(stack.admin.token)),
      400,
      'validation_failed',
    );
  });

  it('switching a model no backend holds is a 404; a body without the switch a 400', async () => {
    expectProblem(
      await request(stack.chat.url)
        .put('/api/admin/models/no-such-model/availability')
        .set(bearer(stack.admin.token))
        .send({ availableToUsers: true }),
      404,
      'not_found',
    );
    expectProblem(
      await request(stack.chat.url)
        .put('/api/admin/models/llama3.2/availability')
        .set(bearer(stack.admin.token))
        .send({ availableToUsers: 'yes' }),
      400,
      'validation_failed',
    );
  });
});

describe('admin models: security', () => {
  it('a user can neither list, switch nor remove pool models', async () => {
    const user = bearer(stack.user.token);
    expectProblem(await request(stack.chat.url).get('/api/admin/models').set(user), 403, 'forbidden');
    expectProblem(
      await request(stack.chat.url)
        .put('/api/admin/models/llama3.2/availability')
        .set(user)
        .send({ availableToUsers: false }),
      403,
      'forbidden',
    );
    expectProblem(
      await request(stack.chat.url).delete('/api/admin/models/llama3.2').set(user),
      403,
      'forbidden',
    );
    expect(await simTags(stack.simA.url)).toContain('llama3.2:latest');
  });

  it('auth records audit events only for the internal service token', async () => {
    const res = await request(inject('authUrl'))
      .post('/api/auth/audit-events')
      .set(bearer(stack.admin.token))
      .send({ action: 'model.removed', actorId: stack.admin.id, targetType: 'model', targetId: 'x' });
    expectProblem(res, 401, 'unauthorized');
  });
});
