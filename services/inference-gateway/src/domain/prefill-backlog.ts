/**
 * cache-aware: the prompt tokens a gateway sent to one server that it has not processed yet, as
 * estimated. A server processes prompts at one rate shared by all of them (a GPU batches its slots'
 * prompts); each prompt can start once its model is in (`readyAt`, later than now while a load
 * runs). The estimate serves them in that order at `rate` tokens/s: the server's total work is what
 * matters for when a new prompt gets through, whatever order the server really uses.
 */
interface Job {
  tokens: number;
  readyAt: number;
}

export class PrefillBacklog {
  /** Ordered by readyAt. */
  private jobs: Job[] = [];
  private at = 0;

  /** The work estimated done by `now`, under `rate` tokens/s, is dropped. */
  advance(now: number, rate: number): void {
    if (now <= this.at) return;
    let t = this.at;
    let finished = 0;
    for (const job of this.jobs) {
      const start = Math.max(t, job.readyAt);
      if (start >= now) break;
      const done = Math.min(job.tokens, ((now - start) * rate) / 1000);
      job.tokens -= done;
      t = start + (done * 1000) / rate;
      if (job.tokens > 1e-6) break;
      finished += 1;
    }
    if (finished > 0) this.jobs = this.jobs.slice(finished);
    this.at = now;
  }

  add(tokens: number, readyAt: number): void {
    if (tokens <= 0) return;
    const job = { tokens, readyAt };
    let i = this.jobs.length;
    while (i > 0 && (this.jobs[i - 1] as Job).readyAt > readyAt) i -= 1;
    this.jobs.splice(i, 0, job);
  }

  /** When (ms) a new prompt that can start at `readyAt` would get the server to itself, all earlier work done. */
  freeAt(readyAt: number, rate: number): number {
    let t = this.at;
    for (const job of this.jobs) {
      if (job.readyAt > readyAt) break;
      t = Math.max(t, job.readyAt) + (job.tokens * 1000) / rate;
    }
    return Math.max(t, readyAt);
  }

  /** Estimated tokens not processed yet. */
  get tokens(): number {
    return this.jobs.reduce((sum, job) => sum + job.tokens, 0);
  }
}
