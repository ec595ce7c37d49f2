/**
 * Prompt processing shares the GPU: a server evaluates prompts at `promptTokensPerSecond` in total,
 * so prompts processed at the same time (in any slot, of any model) split that rate between them
 * (processor sharing), as llama.cpp batches the prompt tokens of all its slots into the same steps.
 * Two long uncached prompts at once each take twice as long as alone.
 */
interface PrefillJob {
  remaining: number;
  startedAt: number;
  done: (durationMs: number) => void;
}

export class PrefillShare {
  private readonly jobs = new Set<PrefillJob>();
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tokensPerSecond: () => number) {}

  /** Prompts being processed now. */
  get active(): number {
    return this.jobs.size;
  }

  /**
   * Processes `tokens` prompt tokens; `done` gets the simulated time it took (ms). Returns a cancel
   * function (the request went away). With a rate of 0, prompt processing is free.
   */
  add(tokens: number, done: (durationMs: number) => void): () => void {
    const now = performance.now();
    this.advance(now);
    const job: PrefillJob = { remaining: tokens, startedAt: now, done };
    this.jobs.add(job);
    this.schedule(now);
    return () => {
      if (!this.jobs.has(job)) return;
      this.advance(performance.now());
      this.jobs.delete(job);
      this.schedule(performance.now());
    };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.jobs.clear();
  }

  // Every job got rate / n tokens per second since the last change.
  private advance(now: number): void {
    const rate = this.tokensPerSecond();
    const n = this.jobs.size;
    if (n > 0 && rate > 0) {
      const each = ((now - this.last) / 1000) * (rate / n);
      for (const job of this.jobs) job.remaining -= each;
    }
    this.last = now;
  }

  private schedule(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.jobs.size === 0) return;
    const rate = this.tokensPerSecond();
    let least = Number.POSITIVE_INFINITY;
    for (const job of this.jobs) least = Math.min(least, job.remaining);
    const waitMs = rate > 0 ? Math.max(0, (least * this.jobs.size * 1000) / rate) : 0;
    // When the timer fires, the job due then is done at the simulated instant `now + waitMs`.
    this.timer = setTimeout(() => this.complete(now + waitMs), waitMs);
  }

  private complete(at: number): void {
    this.timer = undefined;
    this.advance(at);
    const free = this.tokensPerSecond() <= 0;
    const finished = [...this.jobs].filter((job) => free || job.remaining <= 1e-6);
    for (const job of finished) this.jobs.delete(job);
    // Time moves on from the simulated instant, so a late timer does not shorten the others' share.
    this.schedule(at);
    for (const job of finished) job.done(at - job.startedAt);
  }
}
