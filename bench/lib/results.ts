import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, RESULTS_DIR } from './paths.js';

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1-minute load average when the results were written: other work on the machine skews figures. */
  loadAverage1m: number;
  node: string;
  platform: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
}

export function machineInfo(): MachineInfo {
  let gitCommit: string | null = null;
  let gitDirty: boolean | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    gitDirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().length > 0;
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    gitCommit,
    gitDirty,
  };
}

/** Writes bench/results/<name>-<timestamp>.json and returns its path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ bench: name, machine: machineInfo(), ...data }, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
  return file;
}
