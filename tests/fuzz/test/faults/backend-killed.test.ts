// Two ollama-sims behind the gateway; one is SIGKILLed while streams run on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@corral/test-support';
import { agent, call } from '../support/http.js';
import { type RunningProcess, configureSim, spawnService, spawnSim } from '../support/processes.js';
import { GATEWAY_SERVICE_TOKEN } from '../support/stack.js';
import { request } from 'undici';

// Replies of 3 s while the backend is killed (still being sent when it dies, however slowly the
// test reads them), then short ones so the rest of the test runs quickly.
const LONG_REPLIES = ['--tokens-per-second', '100', '--response-tokens', '300', '--ttft-ms', '50'];
const SHORT_REPLIES = ['--tokens-per-second', '100', '--response-tokens', '30', '--ttft-ms', '50'];
let sims: RunningProcess[] = [];
let gateway: RunningProcess;

beforeAll(async () => {
  sims = await Promise.all([spawnSim(LONG_REPLIES), spawnSim(LONG_REPLIES)]);
  gateway = await spawnService('inference-gateway', {
    OLLAMA_URLS: sims.map((s) => s.url).join(','),
    GATEWAY_SERVICE_TOKEN,
    HEALTH_INTERVAL_MS: '250',
    HEALTH_TIMEOUT_MS: '500',
    EJECT_AFTER_FAILURES: '1',
    // Spreads the load over both backends, so the killed one has streams running and gets traffic back.
    ROUTING_STRATEGY: 'round-robin',
    EJECT_BASE_MS: '1000',
    UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'error',
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all(sims.map((s) => s.kill()));
});

interface Outcome {
  status: number;
  backend: string | undefined;
  /** Ended with Ollama's final `done: true` line and no error. */
  complete: boolean;
  /** Ended with the gateway's `{"error": …, "done": true}` line. */
  endedWithError: boolean;
  startedAt: number;
  endedAt: number;
  firstByteAt: number | undefined;
}

/** Streams under way: the backend serving each, and whether its first bytes have arrived. */
const live = new Set<{ backend: string | undefined; streaming: boolean; firstByteAt?: number }>();

async function streamChat(): Promise<Outcome> {
  const startedAt = Date.now();
  const res = await request(`${gateway.url}/api/chat`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${GATEWAY_SERVICE_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: `hi ${Math.random()}` }] }),
  });
  let text = '';
  let firstByteAt: number | undefined;
  const header = res.headers['x-corral-backend'];
  const entry: { backend: string | undefined; streaming: boolean; firstByteAt?: number } = {
    backend: typeof header === 'string' ? header : undefined,
    streaming: false,
  };
  live.add(entry);
  try {
    for await (const chunk of res.body) {
      firstByteAt ??= Date.now();
      entry.firstByteAt ??= firstByteAt;
      entry.streaming = true;
      text += (chunk as Buffer).toString('utf8');
    }
  } catch {
    // a cut connection: judged by what arrived
  } finally {
    live.delete(entry);
  }
  const lines = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as { done?: boolean; error?: string };
      } catch {
        return {};
      }
    });
  const last = lines.at(-1);
  const backend = res.headers['x-corral-backend'];
  return {
    status: res.statusCode,
    backend: typeof backend === 'string' ? backend : undefined,
    complete: res.statusCode === 200 && last?.done === true && last.error === undefined,
    endedWithError: typeof last?.error === 'string' && last.done === true,
    startedAt,
    endedAt: Date.now(),
    firstByteAt,
  };
}

const backendState = async (id: string) =>
  (
    (await call(gateway.url, '/admin/backends', { token: GATEWAY_SERVICE_TOKEN })).json as {
      backends: Array<{ id: string; state: string }>;
    }
  ).backends.find((b) => b.id === id)?.state;

describe('one ollama-sim killed under load', () => {
  it(
    'fails no request that had not started, ends its streams with an error line, ejects and re-admits it',
    { timeout: 90_000 },
    async () => {
      const [victim, survivor] = sims as [RunningProcess, RunningProcess];
      const outcomes: Outcome[] = [];
      let running = true;
      const worker = async () => {
        while (running) outcomes.push(await streamChat());
      };
      const workers = Array.from({ length: 12 }, worker);
      await waitFor(
        'streams running on both backends',
        () => new Set(outcomes.map((o) => o.backend)).size === 2 && outcomes.length >= 12,
      );
      // Right after a round of replies ends, the next ones may not have their first bytes yet
      // (those fail over instead of being cut), and the workers' rounds run in step, so a reply
      // near its end may finish before the kill lands: kill while one that began streaming less
      // than a second ago (of its 3 s) is streaming from the victim.
      await waitFor('a reply just begun streaming from the backend to kill', () =>
        [...live].some(
          (stream) =>
            stream.backend === victim.url &&
            stream.streaming &&
            stream.firstByteAt !== undefined &&
            Date.now() - stream.firstByteAt < 1000,
        ),
      );

      const killedAt = Date.now();
      await victim.kill();
      await configureSim(survivor.url, { responseTokens: 30 });
      const ejectedAt = await waitFor('the killed backend to be taken out', async () =>
        (await backendState(victim.url)) !== 'healthy' ? Date.now() : undefined,
      );
      // Load goes on for a while on the survivor alone.
      const countAtEjection = outcomes.length;
      await waitFor('more requests after the ejection', () => outcomes.length >= countAtEjection + 12, {
        timeoutMs: 30_000,
      });

      const restarted = await spawnSim(SHORT_REPLIES, victim.port);
      sims = [restarted, survivor];
      const restartedAt = Date.now();
      const backAt = await waitFor(
        'the backend to return',
        async () => ((await backendState(victim.url)) === 'healthy' ? Date.now() : undefined),
        { timeoutMs: 30_000 },
      );
      const countAtReturn = outcomes.length;
      await waitFor(
        'traffic on the returned backend',
        () => outcomes.slice(countAtReturn).some((o) => o.backend === victim.url && o.complete),
        { timeoutMs: 30_000 },
      );
      running = false;
      await Promise.all(workers);
      console.log(
        `backend killed: ejected ${ejectedAt - killedAt} ms after SIGKILL; healthy again ${backAt - restartedAt} ms after restart; ` +
          `${outcomes.length} requests, ${outcomes.filter((o) => o.endedWithError).length} streams cut`,
      );

      // Every request got an answer that started: no 5xx, no connection refused.
      const failed = outcomes.filter((o) => o.status !== 200);
      expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
      // Anything not complete was a stream under way on the killed backend when it died, and says so.
      const broken = outcomes.filter((o) => !o.complete);
      for (const o of broken) {
        expect(o.backend).toBe(victim.url);
        expect(o.endedWithError).toBe(true);
        expect(o.startedAt).toBeLessThanOrEqual(killedAt);
        expect(o.endedAt).toBeGreaterThanOrEqual(killedAt);
      }
      expect(broken.length).toBeGreaterThan(0);
    },
  );
});
