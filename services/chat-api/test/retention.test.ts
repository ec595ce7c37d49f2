import { spawn } from 'node:child_process';
import { REPO_ROOT, TEST_DATABASE_URL } from '@corral/test-support';
import { describe, expect, it } from 'vitest';
import { applyRetention } from '../src/domain/retention.js';
import { startChat, useChatApiStack } from './helpers.js';

const DAY = 86_400_000;
/** Each CLI run starts a Node process with tsx: seconds on a busy machine. */
const CLI_TEST = { timeout: 90_000 };

const stack = useChatApiStack({ users: ['user'] });

/** A conversation with `messages` messages whose last activity was `daysAgo` days ago. */
async function conversationLastUpdated(daysAgo: number, messages = 2): Promise<string> {
  const at = new Date(Date.now() - daysAgo * DAY);
  const conversation = await stack.chat.ctx.db.prisma.conversation.create({
    data: {
      userId: stack.user.id,
      title: `${daysAgo} days old`,
      model: 'llama3.2',
      createdAt: at,
      updatedAt: at,
    },
  });
  for (let i = 0; i < messages; i += 1) {
    await stack.chat.ctx.db.prisma.message.create({
      data: {
        conversationId: conversation.id,
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `message ${i}`,
        createdAt: at,
        updatedAt: at,
      },
    });
  }
  return conversation.id;
}

const exists = async (id: string) =>
  (await stack.chat.ctx.db.prisma.conversation.count({ where: { id } })) === 1;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI, as an operator (or a CronJob) runs it. */
function runCli(
  args: string[],
  env: Record<string, string> = {},
  schema = stack.chat.schema,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=corral-source', '--import', 'tsx', 'services/chat-api/src/cli.ts', ...args],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: `${TEST_DATABASE_URL}?schema=${schema}`,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('retention: happy path', () => {
  it('deletes the images of the conversations it deletes (their bytes and the storage they took)', async () => {
    const old = await conversationLastUpdated(60);
    const question = await stack.chat.ctx.db.prisma.message.findFirstOrThrow({
      where: { conversationId: old, role: 'user' },
    });
    await stack.chat.ctx.db.prisma.attachment.create({
      data: {
        userId: stack.user.id,
        conversationId: old,
        messageId: question.id,
        name: 'old.png',
        contentType: 'image/png',
        size: 4,
        data: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      },
    });
    const before = await stack.chat.ctx.db.prisma.attachment.count({ where: { conversationId: old } });
    expect(before).toBe(1);
    await applyRetention(stack.chat.ctx.db, 50);
    expect(await exists(old)).toBe(false);
    expect(await stack.chat.ctx.db.prisma.attachment.count({ where: { conversationId: old } })).toBe(0);
  });

  it(
    'counts with --dry-run, then deletes conversations idle for CHAT_RETENTION_DAYS with their messages',
    CLI_TEST,
    async () => {
      const old = [await conversationLastUpdated(45, 3), await conversationLastUpdated(31, 2)];
      const kept = [await conversationLastUpdated(29), await conversationLastUpdated(0)];

      const counted = await applyRetention(stack.chat.ctx.db, 30, { dryRun: true });
      expect(counted).toMatchObject({ dryRun: true, conversations: 2, messages: 5 });

      const dryRun = await runCli(['retention', '--dry-run'], { CHAT_RETENTION_DAYS: '30' });
      expect(dryRun.code, dryRun.stderr).toBe(0);
      expect(JSON.parse(dryRun.stdout)).toMatchObject({
        command: 'retention',
        days: 30,
        dryRun: true,
        conversations: 2,
        messages: 5,
      });
      for (const id of [...old, ...kept]) expect(await exists(id)).toBe(true);

      const real = await runCli(['retention'], { CHAT_RETENTION_DAYS: '30' });
      expect(real.code, real.stderr).toBe(0);
      expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, conversations: 2, messages: 5 });
      for (const id of old) expect(await exists(id)).toBe(false);
      for (const id of kept) expect(await exists(id)).toBe(true);
      expect(await stack.chat.ctx.db.prisma.message.count({ where: { conversationId: { in: old } } })).toBe(
        0,
      );
    },
  );

  it('runs periodically inside the service when CHAT_RETENTION_DAYS is set', async () => {
    const old = await conversationLastUpdated(100);
    const recent = await conversationLastUpdated(1);
    const retaining = await startChat(stack.sim, {
      schema: stack.chat.schema,
      env: { CHAT_RETENTION_DAYS: '7' },
    });
    try {
      await expect.poll(() => exists(old), { timeout: 5000 }).toBe(false);
      expect(await exists(recent)).toBe(true);
    } finally {
      await retaining.close();
    }
  });

  it('keeps everything when CHAT_RETENTION_DAYS is 0 (the default)', CLI_TEST, async () => {
    const ancient = await conversationLastUpdated(3650);
    const run = await runCli(['retention']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ days: 0, conversations: 0 });
    expect(await exists(ancient)).toBe(true);
    // --days overrides the environment for one run.
    const counted = await runCli(['retention', '--dry-run', '--days', '3000']);
    expect(JSON.parse(counted.stdout)).toMatchObject({ days: 3000, conversations: 1 });
    expect(await exists(ancient)).toBe(true);
    await stack.chat.ctx.db.prisma.conversation.delete({ where: { id: ancient } });
  });

  it('migrates a fresh schema and sweeps replies a dead process left streaming', CLI_TEST, async () => {
    const schema = stack.schema();
    const migrated = await runCli(['migrate'], {}, schema);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ command: 'migrate', schema });
    expect((JSON.parse(migrated.stdout) as { applied: string[] }).applied.length).toBeGreaterThanOrEqual(2);

    const id = await conversationLastUpdated(0, 0);
    const orphan = await stack.chat.ctx.db.prisma.message.create({
      data: {
        conversationId: id,
        role: 'assistant',
        status: 'streaming',
        content: 'half',
        updatedAt: new Date(Date.now() - 3_600_000),
      },
    });
    const swept = await runCli(['sweep']);
    expect(swept.code, swept.stderr).toBe(0);
    expect(JSON.parse(swept.stdout)).toMatchObject({ command: 'sweep', interrupted: 1 });
    const row = await stack.chat.ctx.db.prisma.message.findUniqueOrThrow({ where: { id: orphan.id } });
    expect(row).toMatchObject({ status: 'interrupted', content: 'half' });
  });
});

describe('retention: error paths', () => {
  it(
    'answers bad usage with exit code 2 and a bad environment with 1, deleting nothing',
    CLI_TEST,
    async () => {
      const unknown = await runCli(['shred']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command: shred');
      const badDays = await runCli(['retention', '--days', 'soon']);
      expect(badDays.code).toBe(2);
      const badEnv = await runCli(['retention'], { CHAT_RETENTION_DAYS: 'forever' });
      expect(badEnv.code).toBe(1);
      expect(badEnv.stderr).toContain('CHAT_RETENTION_DAYS');
    },
  );
});
