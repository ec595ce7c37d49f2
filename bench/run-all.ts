/**
 * Runs every bench, or the ones named: `pnpm bench -- history auth`. Each runs in its own process
 * (node --conditions=corral-source --import tsx <name>/run.ts) so one's failure or leftovers
 * cannot skew the next. The gateway bench joins when bench/gateway/run.ts exists.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './lib/paths.js';

const ORDER = ['gateway', 'routing', 'full-path', 'reply-writes', 'auth', 'history', 'memory', 'web'];
const available = ORDER.filter((name) => existsSync(path.join(BENCH_DIR, name, 'run.ts')));
const asked = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = asked.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = asked.length > 0 ? available.filter((name) => asked.includes(name)) : available;

function runBench(name: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=corral-source', '--import', 'tsx', path.join(BENCH_DIR, name, 'run.ts')],
      { cwd: BENCH_DIR, stdio: 'inherit' },
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const outcomes: Array<[string, number, number]> = [];
for (const name of selected) {
  console.log(`\n=== bench: ${name} ===`);
  const started = Date.now();
  const code = await runBench(name);
  outcomes.push([name, code, Math.round((Date.now() - started) / 1000)]);
}
console.log('\n=== summary ===');
for (const [name, code, seconds] of outcomes)
  console.log(`${name.padEnd(10)} ${code === 0 ? 'ok' : `FAILED (exit ${code})`}  ${seconds} s`);
process.exit(outcomes.some(([, code]) => code !== 0) ? 1 : 0);
