import { z } from 'zod';
import { CliError, usageError } from '../errors.js';
import { say, warn } from '../output.js';
import { SERVICES, ensurePrismaClient } from '../services.js';
import { runChatCli } from '../service-cli.js';
import { databaseUrl, loadTargets, splitSchema, withSchema } from '../targets.js';
import { type Command, str } from './types.js';

/** What `chat-api-cli retention` prints (services/chat-api/src/domain/retention.ts RetentionResult). */
const retentionResult = z.object({
  command: z.literal('retention'),
  days: z.number(),
  cutoff: z.string(),
  dryRun: z.boolean(),
  conversations: z.number(),
  messages: z.number(),
  note: z.string().optional(),
});

/** --days, else chat-api's CHAT_RETENTION_DAYS, else RETENTION_DAYS (this command's older name). */
function retentionDays(flag: string | undefined, env = process.env): number {
  const [name, raw] =
    flag !== undefined
      ? ['--days', flag]
      : env.CHAT_RETENTION_DAYS
        ? ['CHAT_RETENTION_DAYS', env.CHAT_RETENTION_DAYS]
        : ['RETENTION_DAYS', env.RETENTION_DAYS];
  if (raw === undefined || raw === '') throw usageError('set CHAT_RETENTION_DAYS or --days');
  if (!/^\d+$/.test(raw)) throw usageError(`${name} must be a whole number of days, got "${raw}"`);
  return Number(raw);
}

export const retentionCommand: Command = {
  name: 'retention',
  summary: 'delete (or with --dry-run count) conversations older than CHAT_RETENTION_DAYS',
  usage: `corral retention [--dry-run] [--days N] [--json] [--schema chat] [--database-url URL]

Runs chat-api's own retention job (\`chat-api-cli retention\`, the one the service runs every
RETENTION_INTERVAL_SECONDS): a conversation whose last activity (updated_at) is more than N days ago
is deleted with all its messages, in batches. Usage records (daily token totals) are kept.
--dry-run only prints the counts; --json prints chat-api's JSON result instead of a sentence.
N: --days, else CHAT_RETENTION_DAYS (RETENTION_DAYS is still read), a whole number; 0 deletes nothing.
Database: --database-url, else DATABASE_URL (and the rest of the environment as given, how a pod
runs it), else the local run; schema: --schema, else the URL's ?schema=, else "chat".`,
  options: {
    'database-url': { type: 'string' },
    'dry-run': { type: 'boolean' },
    days: { type: 'string' },
    json: { type: 'boolean' },
    schema: { type: 'string' },
  },
  async run(values) {
    const days = retentionDays(str(values, 'days'));
    const targets = loadTargets();
    const flag = str(values, 'database-url');
    const split = splitSchema(databaseUrl(targets, flag));
    const schema = str(values, 'schema') ?? split.schema ?? 'chat';
    if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw usageError(`not a schema name: ${schema}`);

    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: withSchema(split.url, schema) };
    if (flag === undefined && !process.env.DATABASE_URL && targets.secrets) {
      // The local run's database: give chat-api's config the run's secrets, as `corral start` does.
      env.INTERNAL_SERVICE_TOKEN = targets.secrets.internalServiceToken;
      if (targets.secrets.gatewayServiceToken)
        env.GATEWAY_SERVICE_TOKEN = targets.secrets.gatewayServiceToken;
    }
    ensurePrismaClient(SERVICES['chat-api'], warn);
    const args = ['retention', '--days', String(days), ...(values['dry-run'] ? ['--dry-run'] : [])];
    const { code, stdout } = await runChatCli(args, env);
    if (code !== 0) throw new CliError(`chat-api's retention failed (exit ${code})`, code === 2 ? 2 : 1);

    const line = stdout.trim().split('\n').at(-1) ?? '';
    if (values.json) {
      say(line);
      return 0;
    }
    let result: z.infer<typeof retentionResult>;
    try {
      result = retentionResult.parse(JSON.parse(line));
    } catch {
      throw new CliError(`chat-api's retention answered something unexpected: ${line.slice(0, 200)}`);
    }
    if (result.note) say(result.note);
    const what = `${result.conversations} conversation(s) with ${result.messages} message(s) older than ${result.days} day(s)`;
    say(result.dryRun ? `dry run: ${what} would be deleted` : `deleted ${what}`);
    return 0;
  },
};
