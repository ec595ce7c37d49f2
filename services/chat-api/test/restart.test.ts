import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OllamaSim } from '@corral/ollama-sim';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DATABASE_URL,
  REDIS_URL,
  createConversation,
  dropSchema,
  openSse,
  readUntil,
  signUp,
  startChat,
  startSim,
  type TestChat,
  type TestUser,
  uniqueSchema,
} from './helpers.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

let sim: OllamaSim;
let user: TestUser;
const schema = uniqueSchema();
const children: ChildProcess[] = [];

beforeAll(async () => {
  sim = await startSim();
  user = await signUp();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await sim?.close();
  await dropSchema(schema);
});

/** chat-api as its own process (as in production), so it can be killed mid-stream. */
async function spawnChat(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=corral-source', '--import', 'tsx', 'services/chat-api/src/index.ts'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: `${DATABASE_URL}?schema=${schema}`,
        REDIS_URL,
        REDIS_KEY_PREFIX: `corral:test:${schema}:`,
        AUTO_MIGRATE: 'true',
        AUTH_URL: inject('authUrl'),
        INTERNAL_SERVICE_TOKEN: inject('serviceToken'),
        GATEWAY_URL: sim.url,
        STREAM_FLUSH_INTERVAL_MS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"message":"listening".*?"port":(\d+)|"port":(\d+).*?"message":"listening"/.exec(output);
      if (match) resolve(Number(match[1] ?? match[2]));
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`chat-api exited with ${code}:\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

describe('a chat-api process killed mid-stream', () => {
  it('leaves the user message and an interrupted reply with its partial text after a restart', async () => {
    sim.setOptions({ tokensPerSecond: 20, responseTokens: 1000 });
    const first = await spawnChat();
    const chatView = { url: first.url } as TestChat;
    const conversation = await createConversation(chatView, user);
    const stream = await openSse(`${first.url}/api/conversations/${conversation.id}/messages`, user.token, {
      content: 'Write a long essay',
    });
    const start = JSON.parse((await readUntil(stream, 'start')).event.data) as {
      assistantMessage: { id: string };
    };
    await readUntil(stream, 'token');

    // A second replica, to read the database (its sweep leaves live replies alone: they are fresh).
    const restarted = await startChat(sim, { schema });
    try {
      const saved = () =>
        restarted.ctx.prisma.message.findUniqueOrThrow({ where: { id: start.assistantMessage.id } });
      // Wait until a batch of the reply reached the database, then kill the process without warning.
      await expect.poll(async () => (await saved()).content.length, { timeout: 10_000 }).toBeGreaterThan(0);
      const exited = new Promise((resolve) => first.child.once('exit', resolve));
      first.child.kill('SIGKILL');
      await exited;
      stream.abort();
      expect((await saved()).status).toBe('streaming');

      // The sweep runs at start-up; here nothing stale may survive, so the orphan is found at once.
      const again = await startChat(sim, { schema, env: { STREAM_STALE_SECONDS: '0' } });
      await again.close();
      const reply = await saved();
      expect(reply.status).toBe('interrupted');
      expect(reply.content.length).toBeGreaterThan(0);
      const question = await restarted.ctx.prisma.message.findFirstOrThrow({
        where: { conversationId: conversation.id, role: 'user' },
      });
      expect(question).toMatchObject({ content: 'Write a long essay', status: 'complete' });
    } finally {
      await restarted.close();
      sim.setOptions({ tokensPerSecond: 0, responseTokens: 24 });
    }
  });
});
