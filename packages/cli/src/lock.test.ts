import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, releaseLock } from './lock.js';

const dirs: string[] = [];
const lockFile = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-lock-'));
  dirs.push(dir);
  return path.join(dir, 'lock');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('acquireLock', () => {
  it('writes our pid into a new lock, and release removes it', () => {
    const file = lockFile();
    expect(acquireLock(file, 4242)).toEqual({});
    expect(readFileSync(file, 'utf8').trim()).toBe('4242');
    releaseLock(file, 4242);
    expect(() => readFileSync(file)).toThrow();
  });

  it('takes over a lock whose process is gone, and says whose it was', () => {
    const file = lockFile();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(file, `${dead}\n`);
    expect(acquireLock(file, 4242)).toEqual({ staleFrom: dead });
    expect(readFileSync(file, 'utf8').trim()).toBe('4242');
  });

  it('refuses a lock held by a live process, naming it', () => {
    const file = lockFile();
    writeFileSync(file, `${process.pid}\n`);
    expect(() => acquireLock(file, 4242)).toThrow(`pid ${process.pid}`);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
  });

  it('does not remove a lock that another process holds', () => {
    const file = lockFile();
    writeFileSync(file, `${process.pid}\n`);
    releaseLock(file, 4242);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
  });
});
