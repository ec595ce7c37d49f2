/**
 * cache-aware: the prompts a gateway sent to one server that it has not processed yet, as
 * estimated. A server processes prompts at one rate shared by those it processes at once (a GPU
 * batches its slots' prompts: processor sharing), each once its model is in (`readyAt`, later than
 * now while a load runs). A prompt's time to first token is then its wait for the load plus its
 * share of the prompt work: a long prompt sent to a busy server delays every prompt already there.
 */
export interface PrefillJob {
  model: string;
  tokens: number;
  readyAt: number;
}

/**
 * Runs the jobs under processor sharing at `rate` tokens/s from `from` until `until` (or until all
 * are done), taking the work done off their `tokens`; returns when each finished (NaN: not by then).
 */
function share(jobs: readonly PrefillJob[], from: number, until: number, rate: number): number[] {
  const doneAt = jobs.map(() => Number.NaN);
  let t = from;
  let left = jobs.length;
  while (left > 0 && t < until) {
    let active = 0;
    let least = Number.POSITIVE_INFINITY;
    let nextReady = Number.POSITIVE_INFINITY;
    for (const [i, job] of jobs.entries()) {
      if (!Number.isNaN(doneAt[i] as number)) continue;
      if (job.readyAt <= t) {
        active += 1;
        least = Math.min(least, job.tokens);
      } else nextReady = Math.min(nextReady, job.readyAt);
    }
    if (active === 0) {
      t = nextReady;
      continue;
    }
    const finish = t + (least * active * 1000) / rate;
    const end = Math.min(finish, nextReady, until);
    // At `finish` the smallest jobs are done exactly (no rounding left over, however small the step).
    const each = end === finish ? least : ((end - t) * rate) / 1000 / active;
    for (const [i, job] of jobs.entries()) {
      if (!Number.isNaN(doneAt[i] as number) || job.readyAt > t) continue;
      job.tokens = job.tokens <= each ? 0 : job.tokens - each;
      if (job.tokens <= 1e-6) {
        doneAt[i] = end;
        left -= 1;
      }
    }
    t = end;
  }
  return doneAt;
}

export class PrefillBacklog {
  private jobs: PrefillJob[] = [];
  private at = 0;

  /**
   * The work estimated done by `now` is taken off; finished prompts are dropped. `readyBy` says when
   * each model is in by the latest estimate (a load seen finished, or timed shorter than guessed):
   * prompts waiting for it can start no later.
   */
  advance(now: number, rate: number, readyBy?: (model: string) => number): void {
    if (readyBy)
      for (const job of this.jobs) job.readyAt = Math.min(job.readyAt, Math.max(now, readyBy(job.model)));
    if (now <= this.at) return;
    if (this.jobs.length > 0) {
      const doneAt = share(this.jobs, this.at, now, rate);
      this.jobs = this.jobs.filter((_, i) => Number.isNaN(doneAt[i] as number));
    }
    this.at = now;
  }

  /** A prompt sent; returns its job (undefined for an empty one) to take it off once it is processed. */
  add(model: string, tokens: number, readyAt: number): PrefillJob | undefined {
    if (tokens <= 0) return undefined;
    const job = { model, tokens, readyAt };
    this.jobs.push(job);
    return job;
  }

  /**
   * The server answered the prompt (its first byte came back): it is processed, whatever the
   * estimate said. Without this, a server faster than the estimate (or a prompt cached there)
   * would look busy for nothing, and the jobs of a fast stream of requests would pile up.
   */
  remove(job: PrefillJob): void {
    const index = this.jobs.indexOf(job);
    if (index >= 0) this.jobs.splice(index, 1);
  }

  /** Prompts the estimate holds as not processed yet. */
  get size(): number {
    return this.jobs.length;
  }

  /**
   * What sending a new prompt of `tokens` now, that can start at `readyAt`, adds to the times to
   * first token of the prompts here, its own included: its wait, plus how much it delays the others
   * by sharing the server with them (call advance first).
   */
  addedBy(tokens: number, readyAt: number, now: number, rate: number): number {
    const from = Math.max(this.at, now);
    const before = share(
      this.jobs.map((job) => ({ ...job })),
      from,
      Number.POSITIVE_INFINITY,
      rate,
    );
    const after = share(
      [...this.jobs.map((job) => ({ ...job })), { model: '', tokens: Math.max(tokens, 1), readyAt }],
      from,
      Number.POSITIVE_INFINITY,
      rate,
    );
    let added = (after[this.jobs.length] as number) - now;
    for (let i = 0; i < this.jobs.length; i++) added += (after[i] as number) - (before[i] as number);
    return added;
  }

  /**
   * When the prompts here are all processed by the estimate (`now` when there are none), the
   * soonest a prompt held back until then would have the server to itself (call advance first).
   */
  drainedAt(now: number, rate: number): number {
    const doneAt = share(
      this.jobs.map((job) => ({ ...job })),
      Math.max(this.at, now),
      Number.POSITIVE_INFINITY,
      rate,
    );
    return doneAt.reduce((last, at) => Math.max(last, at), now);
  }

  /** Estimated prompt tokens not processed yet. */
  get tokens(): number {
    return this.jobs.reduce((sum, job) => sum + job.tokens, 0);
  }
}
