#!/usr/bin/env node
// `corral <command>`: the local run (`start`) and the operator jobs runbooks and Helm hooks call.
import { parseArgs } from 'node:util';
import { createApiKeyCommand } from './commands/api-key.js';
import {
  migrateCommand,
  rotateBootstrapKeyCommand,
  rotateSigningKeyCommand,
  seedAdminCommand,
} from './commands/auth-jobs.js';
import { backupCommand, restoreCommand } from './commands/database.js';
import { doctorCommand } from './commands/doctor.js';
import { retentionCommand } from './commands/retention.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import type { Command, Values } from './commands/types.js';
import { CliError, errorMessage } from './errors.js';

const COMMANDS: Command[] = [
  startCommand,
  statusCommand,
  doctorCommand,
  backupCommand,
  restoreCommand,
  migrateCommand,
  seedAdminCommand,
  rotateSigningKeyCommand,
  rotateBootstrapKeyCommand,
  retentionCommand,
  createApiKeyCommand,
];

const USAGE = `usage: corral <command> [options]   (corral <command> --help for its options)

${COMMANDS.map((command) => `  ${command.name.padEnd(22)}${command.summary}`).join('\n')}

Exit codes: 0 done, 1 failed, 2 bad usage.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new CliError(`unknown command "${name}" (corral --help lists them)`, 2);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new CliError(`${errorMessage(error)} (corral ${name} --help)`, 2);
  }
  if (parsed.values.help) {
    console.log(`usage: ${command.usage}`);
    return 0;
  }
  return command.run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`corral: ${errorMessage(error)}`);
    process.exit(error instanceof CliError ? error.exitCode : 1);
  },
);
