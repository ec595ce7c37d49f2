/**
 * Before/after CPU per streamed token of two gateway builds, with nginx as the yardstick, on a
 * machine too busy for one measurement per target to mean much: the same three sims, and at each
 * level `BENCH_ROUNDS` short rounds in which nginx, the gateway (dist/) and the earlier build each
 * get `BENCH_SECONDS` of the same closed-loop load, in an order that rotates every round. CPU time
 * (utime + stime of the process) and tokens are summed over the rounds, so the figures compare like
 * with like even while the machine's other load comes and goes.
 *
 *   BENCH_GATEWAY_BEFORE_ENTRY=services/inference-gateway/.before/dist/index.js \
 *     node --conditions=corral-source --import tsx bench/gateway/ab.ts
 *
 * BENCH_LEVELS (64,256), BENCH_ROUNDS (6), BENCH_SECONDS (3), BENCH_WARMUP_SECONDS (5). The earlier
 * build must live inside the workspace (so its imports resolve), e.g. a copy of an earlier dist/.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { driveLoad } from './load.js';
import { type Proc, sampleProcesses, startGateway, startNginx, startSim } from './processes.js';

const levels = (process.env.BENCH_LEVELS ?? '64,256').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const beforeEntry = process.env.BENCH_GATEWAY_BEFORE_ENTRY;

interface Tally {
  cpuSeconds: number;
  tokens: number;
  requests: number;
  ttftP99: number[];
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  if (!beforeEntry) throw new Error('set BENCH_GATEWAY_BEFORE_ENTRY to the earlier build');
  const token = randomBytes(24).toString('hex');
  const auth = { authorization: `Bearer ${token}` };
  const procs: Proc[] = [];
  try {
    const sims = await Promise.all(
      [0, 1, 2].map(() => startSim({ tokensPerSecond: 200, responseTokens: 32, ttftMs: 20 })),
    );
    procs.push(...sims);
    const urls = sims.map((s) => s.url);
    const nginx = await startNginx(urls);
    const gateway = await startGateway(urls, token);
    const before = await startGateway(urls, token, {}, beforeEntry);
    procs.push(nginx, gateway, before);
    const targets = [
      { name: 'nginx', proc: nginx, headers: {} },
      { name: 'gateway', proc: gateway, headers: auth },
      { name: 'before', proc: before, headers: auth },
    ] as const;
    for (const concurrency of levels) {
      for (const target of targets)
        await driveLoad(target.proc.url, concurrency, warmupSeconds, target.headers);
      const tallies = new Map<string, Tally>(
        targets.map((t) => [t.name, { cpuSeconds: 0, tokens: 0, requests: 0, ttftP99: [] }]),
      );
      const loads: number[] = [];
      for (let r = 0; r < rounds; r++) {
        loads.push(loadavg()[0] ?? 0);
        for (let i = 0; i < targets.length; i++) {
          const target = targets[(i + r) % targets.length]!;
          const pids = await target.proc.pids();
          const start = await sampleProcesses(pids);
          const result = await driveLoad(target.proc.url, concurrency, seconds, target.headers);
          const end = await sampleProcesses(pids);
          const tally = tallies.get(target.name)!;
          tally.cpuSeconds += end.cpuSeconds - start.cpuSeconds;
          tally.tokens += result.allTokens;
          tally.requests += result.requests;
          tally.ttftP99.push(result.ttftMs.p99);
        }
      }
      const perToken = (name: string) => {
        const t = tallies.get(name)!;
        return (t.cpuSeconds * 1e6) / Math.max(t.tokens, 1);
      };
      const [n, g, b] = [perToken('nginx'), perToken('gateway'), perToken('before')];
      console.log(
        JSON.stringify({
          concurrency,
          rounds,
          seconds,
          load: `${round(Math.min(...loads))}–${round(Math.max(...loads))}`,
          cpuMicrosPerToken: { nginx: round(n), gateway: round(g), before: round(b) },
          tokens: Object.fromEntries([...tallies].map(([k, t]) => [k, t.tokens])),
          ttftP99MedianMs: Object.fromEntries(
            [...tallies].map(([k, t]) => [
              k,
              round([...t.ttftP99].sort((x, y) => x - y)[t.ttftP99.length >> 1] ?? 0),
            ]),
          ),
          gatewayOverNginx: round(g / n, 2),
          beforeOverNginx: round(b / n, 2),
          gatewayOverBefore: round(g / b, 3),
        }),
      );
    }
  } finally {
    await Promise.all(procs.map((proc) => proc.stop()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
