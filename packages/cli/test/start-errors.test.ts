import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorralRun, freePort, readState, tempHome, testEnv } from './helpers.js';

const BOOT_MS = 180_000;

describe('corral start refuses clearly', () => {
  const { home, cleanup } = tempHome();
  afterAll(() => cleanup());

  it('exits 1 with "port … is in use" when the web port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const run = new CorralRun({ ...(await testEnv(home)), PORT: String(port) });
      expect(await run.exited).toBe(1);
      expect(run.output).toContain(`port ${port} is in use — set PORT=`);
    } finally {
      blocker.close();
    }
  });

  it('exits 1 naming the pid when another live run holds the lock', async () => {
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'lock'), `${process.pid}\n`);
    const run = new CorralRun({ ...(await testEnv(home)) });
    expect(await run.exited).toBe(1);
    expect(run.output).toContain(`already running from this directory (pid ${process.pid}`);
    expect(readFileSync(path.join(home, 'lock'), 'utf8').trim()).toBe(String(process.pid));
  });
});

describe('corral start when a service dies during start-up', () => {
  const { home, cleanup } = tempHome();
  afterAll(() => cleanup());

  it(
    'shows its last lines, stops everything and exits 1 (here with --json: every line is JSON)',
    async () => {
      // A bad LOG_LEVEL makes every service refuse to start, naming the variable.
      const run = new CorralRun({ ...(await testEnv(home)), LOG_LEVEL: 'loud' }, ['--json']);
      expect(await run.exited).toBe(1);
      const lines = run.output.trim().split('\n');
      const entries = lines.map(
        (line) => JSON.parse(line) as { level: string; message: string; service: string },
      );
      const failure = entries.find((entry) => entry.service === 'corral' && entry.level === 'error');
      expect(failure?.message).toMatch(/exited with code 1 during start-up; its last lines/);
      expect(failure?.message).toContain('LOG_LEVEL');
      expect(
        entries.some(
          (entry) => entry.service === 'postgres' && /database system is shut down/.test(entry.message),
        ),
      ).toBe(true);
      expect(existsSync(path.join(home, 'lock'))).toBe(false);
    },
    BOOT_MS,
  );
});

describe('corral start takes over a stale lock', () => {
  const { home, cleanup } = tempHome();
  let run: CorralRun;
  // A pid that certainly belonged to a process that has exited.
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid ?? 999_999;

  beforeAll(async () => {
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'lock'), `${deadPid}\n`);
    run = new CorralRun({ ...(await testEnv(home)) });
    await run.waitFor(/Corral is running/);
  }, BOOT_MS);

  afterAll(async () => {
    await run?.stop();
    cleanup();
  }, BOOT_MS);

  it('says so, runs, and holds the lock itself', async () => {
    expect(run.output).toContain(
      `stale lock from pid ${deadPid}, which is no longer running; taking it over`,
    );
    expect(readFileSync(path.join(home, 'lock'), 'utf8').trim()).toBe(String(run.child.pid));
    const web = readState(home).services.web ?? '';
    expect((await axios.get(`${web}/readyz`, { validateStatus: () => true })).status).toBe(200);
  });

  it('exits 0 on SIGINT', async () => {
    expect(await run.stop()).toBe(0);
  });
});
