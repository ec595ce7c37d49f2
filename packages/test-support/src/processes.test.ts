import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  configureSim,
  listeningUrl,
  logCount,
  RUNNER_VARIABLES,
  startProcess,
  startService,
  startSimProcess,
  type TestProcess,
} from './processes.js';

/** Runs `code` with plain node (no tsx: quick), output captured. */
const nodeScript = (code: string, env?: NodeJS.ProcessEnv): TestProcess =>
  startProcess(process.execPath, ['-e', code], { name: 'script', ...(env ? { env } : {}) });

/**
 * A stand-in for a Corral service: listens on PORT and HOST, logs service-kit's "listening" line
 * at LOG_LEVEL info, answers /healthz only after HEALTHY_AFTER_MS, and echoes FAKE_SETTING and
 * NODE_ENV at /env; FAIL_AT_START makes it exit 3 with a message instead.
 */
const FAKE_SERVICE = `
import { createServer } from 'node:http';
if (process.env.FAIL_AT_START) {
  console.error('invalid configuration: ' + process.env.FAIL_AT_START);
  process.exit(3);
}
const started = Date.now();
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.statusCode = Date.now() - started >= Number(process.env.HEALTHY_AFTER_MS ?? 0) ? 200 : 503;
    res.end();
  } else {
    res.end(JSON.stringify({ setting: process.env.FAKE_SETTING, nodeEnv: process.env.NODE_ENV }));
  }
});
server.listen(Number(process.env.PORT), process.env.HOST, () => {
  if (process.env.LOG_LEVEL === 'info')
    console.log(JSON.stringify({ level: 'info', message: 'listening', port: server.address().port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

let dir: string;
let fakeService: string;
const started: TestProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'test-support-'));
  fakeService = path.join(dir, 'fake-service.mjs');
  writeFileSync(fakeService, FAKE_SERVICE);
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe('startProcess', () => {
  it('captures stdout and stderr, and waitFor resolves with what it found in them', async () => {
    const script = nodeScript(
      `console.log('out: ready'); console.error('err: port 4711'); setInterval(() => {}, 1000);`,
    );
    started.push(script);
    const port = await script.waitFor((output) => /port (\d+)/.exec(output)?.[1], { timeoutMs: 10_000 });
    expect(port).toBe('4711');
    expect(script.output()).toContain('out: ready');
    expect(script.isAlive()).toBe(true);
    const status = await script.kill();
    expect(status).toEqual({ code: null, signal: 'SIGKILL' });
    expect(script.isAlive()).toBe(false);
  });

  it('waitFor rejects with the output when the process exits first', async () => {
    const script = nodeScript(`console.error('cannot start: no config'); process.exit(2);`);
    await expect(
      script.waitFor((output) => output.includes('listening'), { what: 'listening' }),
    ).rejects.toThrow(/script exited \(2\) before listening:\ncannot start: no config/);
    expect(await script.exited).toEqual({ code: 2, signal: null });
  });

  it('waitFor rejects after timeoutMs, leaving the process running', async () => {
    const script = nodeScript(`console.log('booting'); setInterval(() => {}, 1000);`);
    started.push(script);
    await expect(
      script.waitFor((output) => output.includes('ready'), { timeoutMs: 300, what: 'ready' }),
    ).rejects.toThrow(/script: no ready within 300 ms:\nbooting/);
    expect(script.isAlive()).toBe(true);
    await script.kill();
  });

  it('stop sends SIGTERM and waits; one that ignores it is killed after the grace period', async () => {
    const polite = nodeScript(
      `process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`,
    );
    await polite.waitFor((output) => output.includes('up'));
    expect(await polite.stop()).toEqual({ code: 0, signal: null });
    expect(polite.output()).toContain('bye');

    const stubborn = nodeScript(
      `process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000);`,
    );
    await stubborn.waitFor((output) => output.includes('up'));
    expect(await stubborn.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stubborn.output()).toContain('ignored');
    // Stopping what has already exited is no error.
    expect(await stubborn.stop()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('keeps the latest maxOutput characters of the output', async () => {
    const script = startProcess(
      process.execPath,
      ['-e', `process.stdout.write('a'.repeat(5000) + 'the end')`],
      {
        maxOutput: 100,
      },
    );
    await script.exited;
    expect(script.output()).toHaveLength(100);
    expect(script.output().endsWith('the end')).toBe(true);
  });

  it('reports a command that cannot be started, instead of throwing or hanging', async () => {
    const missing = startProcess('corral-no-such-binary', [], { name: 'missing' });
    const status = await missing.exited;
    expect(status.error?.message).toMatch(/ENOENT/);
    expect(missing.isAlive()).toBe(false);
    await expect(missing.waitFor((output) => output.includes('up'), { what: 'anything' })).rejects.toThrow(
      /missing failed to start/,
    );
  });
});

describe('childEnv', () => {
  it("leaves out the test runner's variables and those asked, and adds the extra ones", () => {
    const saved = { ...process.env };
    try {
      for (const key of RUNNER_VARIABLES) process.env[key] = 'runner';
      process.env.CORRAL_SUPPORT_KEEP = 'kept';
      process.env.CORRAL_SUPPORT_DROP = 'dropped';
      const env = childEnv({ EXTRA: 'yes' }, ['CORRAL_SUPPORT_DROP']);
      for (const key of RUNNER_VARIABLES) expect(env).not.toHaveProperty(key);
      expect(env).not.toHaveProperty('CORRAL_SUPPORT_DROP');
      expect(env).toMatchObject({ CORRAL_SUPPORT_KEEP: 'kept', EXTRA: 'yes', NO_COLOR: '1' });
    } finally {
      process.env = saved;
    }
  });
});

describe('listeningUrl and logCount', () => {
  it("read service-kit's JSON log lines, whichever order the fields are in", () => {
    expect(listeningUrl('{"level":"info","message":"listening","port":4100}\n')).toBe(
      'http://127.0.0.1:4100',
    );
    expect(listeningUrl('{"port":4101,"level":"info","message":"listening"}\n')).toBe(
      'http://127.0.0.1:4101',
    );
    expect(listeningUrl('{"message":"starting"}\n{"port":4102,"message":"config"}\n')).toBeUndefined();
    const output = '{"message":"backend joined"}\n{"message":"backend joined"}\n{"message":"backend left"}\n';
    expect(logCount(output, 'backend joined')).toBe(2);
    expect(logCount(output, 'backend')).toBe(0);
  });
});

describe('startService', () => {
  it('listening: resolves with the URL from the "listening" line, in a test environment with its variables', async () => {
    const service = await startService(fakeService, { env: { FAKE_SETTING: 'from the test' } });
    started.push(service);
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    const body = (await (await fetch(`${service.url}/env`)).json()) as Record<string, string>;
    expect(body).toEqual({ setting: 'from the test', nodeEnv: 'test' });
    expect((await service.stop()).code).toBe(0);
  });

  it('healthy: resolves once /healthz answers 2xx, on the port given', async () => {
    const service = await startService(fakeService, {
      readyWhen: 'healthy',
      env: { HEALTHY_AFTER_MS: '500' },
    });
    started.push(service);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    // At LOG_LEVEL warn there is no "listening" line: the port came from the health check.
    expect(service.output()).not.toContain('listening');
    await service.stop();
  });

  it('rejects with the output when the service exits at start-up', async () => {
    await expect(startService(fakeService, { env: { FAIL_AT_START: 'PORT is wrong' } })).rejects.toThrow(
      /exited \(3\) before "listening" log line:\ninvalid configuration: PORT is wrong/,
    );
  });

  it('rejects, and kills it, when it is not up within timeoutMs', async () => {
    const error = await startService(fakeService, {
      readyWhen: 'healthy',
      timeoutMs: 500,
      env: { HEALTHY_AFTER_MS: '60000' },
    }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/\/healthz did not answer within 500 ms/);
  });
});

describe('startSimProcess and configureSim', () => {
  it('starts ollama-sim from its CLI and changes its failure mode over HTTP', async () => {
    const sim = await startSimProcess(['--tokens-per-second', '0', '--ttft-ms', '0']);
    started.push(sim);
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    expect((await fetch(`${sim.url}/api/version`)).status).toBe(200);
    await configureSim(sim.url, { failure: { mode: 'error-500', paths: ['/api/version'] } });
    expect((await fetch(`${sim.url}/api/version`)).status).toBe(500);
    await expect(configureSim(sim.url, { failure: { mode: 'no-such-mode' } })).rejects.toThrow(
      /answered 400/,
    );
    await sim.stop();
  });
});
