/**
 * Gateway benchmark: the same streaming /api/chat load sent straight to one ollama-sim, through
 * nginx round-robin over three sims, and through the inference-gateway over the same three, in
 * one run. Prints tokens/s, requests/s and TTFT p50/p99 per target and level, the gateway/nginx
 * ratios, and the proxies' CPU and memory; writes the figures to bench/results/.
 *
 *   pnpm --filter @corral/inference-gateway bench      (builds the gateway first)
 *   node --conditions=corral-source --import tsx bench/gateway/run.ts
 *
 * BENCH_LEVELS (1,64,256,1024), BENCH_SECONDS (10 per target and level), BENCH_TOKENS_PER_SECOND
 * (200), BENCH_RESPONSE_TOKENS (32), BENCH_TTFT_MS (20). BENCH_GATEWAY_BEFORE_ENTRY (a second gateway
 * build, e.g. a copy of an earlier dist/ inside the workspace) is measured too, as "before", right
 * after the gateway at each level: a before/after comparison in the same run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, driveLoad } from './load.js';
import {
  LOAD_CPUS,
  PINNED,
  PROXY_CPUS,
  type Proc,
  REPO_ROOT,
  type SimSettings,
  listenOverflows,
  pinLoadClient,
  sampleProcesses,
  startGateway,
  startNginx,
  startSim,
} from './processes.js';

const levels = (process.env.BENCH_LEVELS ?? '1,64,256,1024').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const sim: SimSettings = {
  tokensPerSecond: Number(process.env.BENCH_TOKENS_PER_SECOND ?? 200),
  responseTokens: Number(process.env.BENCH_RESPONSE_TOKENS ?? 32),
  ttftMs: Number(process.env.BENCH_TTFT_MS ?? 20),
};

interface Row extends LoadResult {
  target: 'direct' | 'nginx' | 'gateway' | 'before';
  tokensPerSecond: number;
  requestsPerSecond: number;
  /** CPU of the process under test (the sim itself for "direct"), in cores. */
  cpuCores: number;
  /** CPU time (user + system, every thread, from /proc) per token streamed, in microseconds. */
  cpuMicrosPerToken: number;
  /** 1-minute load average when the measurement started (the machine's other load). */
  loadAverage: number;
  rssMiB: number;
  peakRssMiB: number;
  /** Connections dropped by a full listen queue during the run (a slow accept loop; clients retry after ≥ 1 s). */
  listenDrops: number;
}

const beforeEntry = process.env.BENCH_GATEWAY_BEFORE_ENTRY;
/** Seconds of load each target gets before measuring (connections, JIT), at the first level's concurrency. */
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / (1024 * 1024));

async function measure(
  target: Row['target'],
  proc: Proc,
  concurrency: number,
  headers: Record<string, string>,
) {
  const pids = await proc.pids();
  const loadAverage = round(loadavg()[0] ?? 0, 1);
  const before = await sampleProcesses(pids);
  const dropsBefore = await listenOverflows();
  const started = performance.now();
  const result = await driveLoad(proc.url, concurrency, seconds, headers);
  const elapsed = (performance.now() - started) / 1000;
  const after = await sampleProcesses(pids);
  const listenDrops = (await listenOverflows()) - dropsBefore;
  const row: Row = {
    target,
    ...result,
    tokensPerSecond: round(result.tokens / seconds, 0),
    requestsPerSecond: round(result.requests / seconds, 1),
    cpuCores: round((after.cpuSeconds - before.cpuSeconds) / elapsed, 2),
    // The CPU sample runs until the last request of the window has finished: divide by all its tokens.
    cpuMicrosPerToken: round(
      ((after.cpuSeconds - before.cpuSeconds) * 1e6) / Math.max(result.allTokens, 1),
      1,
    ),
    loadAverage,
    rssMiB: mib(after.rssBytes),
    peakRssMiB: mib(after.peakRssBytes),
    listenDrops,
  };
  const t = row.ttftMs;
  console.log(
    `  ${target.padEnd(8)} c=${String(concurrency).padStart(4)}  ${String(row.tokensPerSecond).padStart(7)} tok/s  ` +
      `${String(row.requestsPerSecond).padStart(7)} req/s  ttft p50 ${round(t.p50, 2)} ms  p99 ${round(t.p99, 2)} ms  ` +
      `errors ${row.errors}  listen drops ${listenDrops}  cpu ${row.cpuCores} (${row.cpuMicrosPerToken} µs/token)  ` +
      `rss ${row.rssMiB} MiB  load ${loadAverage}`,
  );
  return row;
}

function printTable(rows: Row[]): void {
  const header = [
    'target',
    'conc',
    'tok/s',
    'req/s',
    'ttft p50 ms',
    'ttft p99 ms',
    'errors',
    'listen drops',
    'cpu cores',
    'cpu µs/token',
    'rss MiB',
    'load',
  ];
  const lines = rows.map((r) => [
    r.target,
    String(r.concurrency),
    String(r.tokensPerSecond),
    String(r.requestsPerSecond),
    String(round(r.ttftMs.p50, 2)),
    String(round(r.ttftMs.p99, 2)),
    String(r.errors),
    String(r.listenDrops),
    String(r.cpuCores),
    String(r.cpuMicrosPerToken),
    String(r.rssMiB),
    String(r.loadAverage),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(format(line));
}

/** Per level: the gateway against nginx (and the earlier build, when one runs); empty when a target is missing. */
interface Comparison {
  concurrency: number;
  throughputGatewayOverNginx?: number;
  requestsGatewayOverNginx?: number;
  ttftP50AddedOverNginxMs?: number;
  ttftP99AddedOverNginxMs?: number;
  ttftP99AddedOverDirectMs?: number;
  ttftP99GatewayOverNginx?: number;
  cpuPerTokenGatewayOverNginx?: number;
  gatewayCpuOverNginxCpu?: number;
  cpuPerTokenBeforeOverNginx?: number;
  cpuPerTokenGatewayOverBefore?: number;
  ttftP99BeforeOverNginx?: number;
}

function ratios(rows: Row[]): Comparison[] {
  return levels.map((concurrency) => {
    const at = (target: Row['target']) =>
      rows.find((r) => r.target === target && r.concurrency === concurrency);
    const [direct, nginx, gateway, before] = [at('direct'), at('nginx'), at('gateway'), at('before')];
    if (!direct || !nginx || !gateway) return { concurrency };
    return {
      concurrency,
      throughputGatewayOverNginx: round(gateway.tokensPerSecond / nginx.tokensPerSecond, 3),
      requestsGatewayOverNginx: round(gateway.requestsPerSecond / nginx.requestsPerSecond, 3),
      ttftP50AddedOverNginxMs: round(gateway.ttftMs.p50 - nginx.ttftMs.p50, 2),
      ttftP99AddedOverNginxMs: round(gateway.ttftMs.p99 - nginx.ttftMs.p99, 2),
      ttftP99AddedOverDirectMs: round(gateway.ttftMs.p99 - direct.ttftMs.p99, 2),
      ttftP99GatewayOverNginx: round(gateway.ttftMs.p99 / nginx.ttftMs.p99, 2),
      cpuPerTokenGatewayOverNginx: round(
        gateway.cpuMicrosPerToken / Math.max(nginx.cpuMicrosPerToken, 0.1),
        2,
      ),
      gatewayCpuOverNginxCpu: round(gateway.cpuCores / Math.max(nginx.cpuCores, 0.01), 2),
      ...(before
        ? {
            cpuPerTokenBeforeOverNginx: round(
              before.cpuMicrosPerToken / Math.max(nginx.cpuMicrosPerToken, 0.1),
              2,
            ),
            cpuPerTokenGatewayOverBefore: round(
              gateway.cpuMicrosPerToken / Math.max(before.cpuMicrosPerToken, 0.1),
              2,
            ),
            ttftP99BeforeOverNginx: round(before.ttftMs.p99 / nginx.ttftMs.p99, 2),
          }
        : {}),
    };
  });
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, 'services/inference-gateway/dist/index.js'))) {
    throw new Error('build the gateway first: pnpm --filter @corral/inference-gateway build');
  }
  pinLoadClient();
  const serviceToken = randomBytes(24).toString('hex');
  const procs: Proc[] = [];
  try {
    const sims = await Promise.all([startSim(sim), startSim(sim), startSim(sim)]);
    procs.push(...sims);
    const nginx = await startNginx(sims.map((s) => s.url));
    procs.push(nginx);
    const gateway = await startGateway(
      sims.map((s) => s.url),
      serviceToken,
    );
    procs.push(gateway);
    const before = beforeEntry
      ? await startGateway(
          sims.map((s) => s.url),
          serviceToken,
          {},
          beforeEntry,
        )
      : undefined;
    if (before) procs.push(before);
    console.log(
      `bench/gateway: ${cpus().length} cores, sims at ${sim.tokensPerSecond} tok/s × ${sim.responseTokens} tokens, ` +
        `ttft ${sim.ttftMs} ms; ${seconds} s per target and level; ` +
        (PINNED
          ? `pinned: proxy on CPU ${PROXY_CPUS}, sims and load client on CPU ${LOAD_CPUS}`
          : 'unpinned: every process shares every CPU'),
    );
    // Warm every path (connections, JIT) before measuring.
    for (const [proc, headers] of [
      [sims[0], {}],
      [nginx, {}],
      [gateway, { authorization: `Bearer ${serviceToken}` }],
      ...(before ? ([[before, { authorization: `Bearer ${serviceToken}` }]] as const) : []),
    ] as const) {
      await driveLoad(proc!.url, Math.max(16, levels[0] ?? 16), warmupSeconds, headers);
    }
    const rows: Row[] = [];
    for (const concurrency of levels) {
      rows.push(await measure('direct', sims[0]!, concurrency, {}));
      rows.push(await measure('nginx', nginx, concurrency, {}));
      const auth = { authorization: `Bearer ${serviceToken}` };
      // Before/after alternate which goes first, so neither always runs on the later (busier) half.
      const beforeFirst = before !== undefined && levels.indexOf(concurrency) % 2 === 1;
      if (before && beforeFirst) rows.push(await measure('before', before, concurrency, auth));
      rows.push(await measure('gateway', gateway, concurrency, auth));
      if (before && !beforeFirst) rows.push(await measure('before', before, concurrency, auth));
    }
    printTable(rows);
    const comparison = ratios(rows);
    console.log('\ngateway vs nginx (same three sims):');
    for (const c of comparison) console.log(' ', JSON.stringify(c));
    const at256 = comparison.find((c) => c.concurrency === 256);
    if (at256?.throughputGatewayOverNginx !== undefined && at256.ttftP99AddedOverNginxMs !== undefined) {
      const met = at256.throughputGatewayOverNginx >= 0.8 && at256.ttftP99AddedOverNginxMs <= 5;
      console.log(
        `\nissue target at 256 streams (throughput ≥ 0.8× nginx, TTFT p99 added ≤ 5 ms): ${met ? 'met' : 'NOT met'} ` +
          `(${at256.throughputGatewayOverNginx}×, p99 ${at256.ttftP99AddedOverNginxMs} ms, p50 ${at256.ttftP50AddedOverNginxMs} ms added); ` +
          'a p99 is only as good as the baseline run behind it: check errors and listen drops above',
      );
    }
    // Issue 17: the 1,024-stream burst and the CPU each streamed token costs.
    const at = (concurrency: number) => comparison.find((c) => c.concurrency === concurrency);
    const burst = at(1024);
    if (burst?.ttftP99GatewayOverNginx !== undefined) {
      console.log(
        `issue 17 at 1,024 streams (TTFT p99 ≤ 2× nginx's): ${burst.ttftP99GatewayOverNginx <= 2 ? 'met' : 'NOT met'} (${burst.ttftP99GatewayOverNginx}×)`,
      );
    }
    for (const concurrency of [64, 256]) {
      const ratio = at(concurrency)?.cpuPerTokenGatewayOverNginx;
      if (ratio === undefined) continue;
      console.log(
        `issue 17 at ${concurrency} streams (CPU per token ≤ 1.5× nginx's): ${ratio <= 1.5 ? 'met' : 'NOT met'} (${ratio}×)`,
      );
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const out = join(REPO_ROOT, 'bench/results', `gateway-${stamp}.json`);
    await mkdir(join(REPO_ROOT, 'bench/results'), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify(
        {
          benchmark: 'gateway',
          at: new Date().toISOString(),
          machine: {
            cores: cpus().length,
            cpu: cpus()[0]?.model,
            memoryMiB: mib(totalmem()),
            loadavg: loadavg(),
          },
          node: process.version,
          settings: { levels, seconds, sim, pinned: PINNED },
          rows,
          comparison,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwritten to ${out}`);
  } finally {
    await Promise.all(procs.map((proc) => proc.stop()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
