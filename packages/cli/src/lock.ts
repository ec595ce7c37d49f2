import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CliError } from './errors.js';
import { isProcessAlive } from './process-util.js';

export interface LockResult {
  /** The pid of a dead run whose lock was taken over, if any. */
  staleFrom?: number;
}

function readLockPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * One local run per data directory: `lock` holds the running pid. A lock left by a dead process
 * is taken over; one held by a live process is refused.
 */
export function acquireLock(file: string, pid = process.pid): LockResult {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o644 });
      return {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLockPid(file);
    if (holder !== undefined && holder !== pid && isProcessAlive(holder)) {
      throw new CliError(
        `another Corral is already running from this directory (pid ${holder}, lock ${file}); stop it first`,
      );
    }
    rmSync(file, { force: true });
    if (holder !== undefined && holder !== pid) {
      writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o644 });
      return { staleFrom: holder };
    }
  }
  throw new CliError(`could not take the lock ${file}`);
}

/** Removes the lock if it is still ours. */
export function releaseLock(file: string, pid = process.pid): void {
  if (readLockPid(file) === pid) rmSync(file, { force: true });
}
