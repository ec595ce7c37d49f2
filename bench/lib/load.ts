import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  /** Requests that finished without error. */
  ok: number;
  errors: number;
  /** First few distinct error messages, for the report. */
  errorSamples: string[];
  /** Wall time from the first scheduled request to the last completion, in seconds. */
  elapsedSeconds: number;
  /** Successful completions per second of elapsed time. */
  achievedRps: number;
  /** Latencies of successful requests in ms (open loop: from the scheduled start). */
  latenciesMs: number[];
}

function collectError(samples: string[], error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (samples.length < 5 && !samples.includes(message)) samples.push(message);
}

/**
 * Open-loop load: request i is scheduled at start + i/rate whatever happened before, and its
 * latency counts from that scheduled time, so a slow server shows up as latency (no coordinated
 * omission). Requests still running `drainMs` after the last one was scheduled count as errors.
 */
export async function openLoop(
  ratePerSecond: number,
  durationSeconds: number,
  send: (index: number) => Promise<void>,
  drainMs = 30_000,
): Promise<LoadResult> {
  const total = Math.round(ratePerSecond * durationSeconds);
  const intervalMs = 1000 / ratePerSecond;
  const latenciesMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let lastDone = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now() + 5;
  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      const scheduled = start + next * intervalMs;
      const task = send(next).then(
        () => {
          lastDone = performance.now();
          latenciesMs.push(lastDone - scheduled);
        },
        (error: unknown) => {
          errors += 1;
          collectError(errorSamples, error);
        },
      );
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      next += 1;
    }
    const wait = start + next * intervalMs - performance.now();
    await sleep(Math.max(0, Math.min(wait, 5)));
  }
  const drained = await Promise.race([
    Promise.all(inflight).then(() => true),
    sleep(drainMs).then(() => false),
  ]);
  if (!drained) errors += inflight.size;
  const elapsedSeconds = (Math.max(lastDone, start) - start) / 1000;
  return {
    ok: latenciesMs.length,
    errors,
    errorSamples,
    elapsedSeconds,
    achievedRps: elapsedSeconds > 0 ? latenciesMs.length / elapsedSeconds : 0,
    latenciesMs,
  };
}

/** Closed loop: `concurrency` workers each send the next request as soon as the last finished. */
export async function closedLoop(
  concurrency: number,
  durationSeconds: number,
  send: (index: number) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let index = 0;
  const start = performance.now();
  const end = start + durationSeconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const began = performance.now();
      try {
        await send(index++);
        latenciesMs.push(performance.now() - began);
      } catch (error) {
        errors += 1;
        collectError(errorSamples, error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    ok: latenciesMs.length,
    errors,
    errorSamples,
    elapsedSeconds,
    achievedRps: latenciesMs.length / elapsedSeconds,
    latenciesMs,
  };
}

/**
 * Runs `fn` one call after another, `count` times or until `maxSeconds` have passed (at least
 * `minCount` calls), and returns each duration in ms.
 */
export async function sequential(
  count: number,
  fn: (index: number) => Promise<void>,
  { maxSeconds = Number.POSITIVE_INFINITY, minCount = 1 } = {},
): Promise<number[]> {
  const durations: number[] = [];
  const deadline = performance.now() + maxSeconds * 1000;
  for (let i = 0; i < count; i++) {
    if (i >= minCount && performance.now() > deadline) break;
    const began = performance.now();
    await fn(i);
    durations.push(performance.now() - began);
  }
  return durations;
}
