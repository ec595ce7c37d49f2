import type { Logger } from '@corral/service-kit';
import type { Database } from '../data/db.js';
import { addUsage, type UsageRowToAdd, tokensUsedToday, tokensUsedTodayByKey } from '../data/usage.js';
import type { UsageEntry } from './usage.js';

/** How long recorded usage may wait to be written with whatever else arrives meanwhile. */
export const USAGE_FLUSH_MS = 100;
/** After a failed write (the database away), how long before the rows are tried again. */
const RETRY_MS = 1000;

type Row = UsageRowToAdd;

// NUL never occurs in stored text (PostgreSQL refuses it; validation too): no two rows share a key.
const rowKey = (day: string, userId: string, apiKeyId: string, model: string) =>
  `${day}\0${userId}\0${apiKeyId}\0${model}`;

let today = '';
let tomorrowAt = 0;
/** Today's UTC date (YYYY-MM-DD), formatted once a day rather than per request. */
function utcDay(): string {
  const now = Date.now();
  if (now >= tomorrowAt) {
    const date = new Date(now);
    today = date.toISOString().slice(0, 10);
    tomorrowAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  }
  return today;
}

/**
 * Daily usage, written in batches: what is recorded within USAGE_FLUSH_MS is summed per day, user,
 * key and model and written by one statement, instead of one upsert (and one commit) per request.
 * Reads stay exact on this replica: budget checks add what is not yet committed, and the usage
 * routes `flush()` first. A failed write is retried with the next batch; shutdown writes the rest.
 */
export class UsageLedger {
  private pending = new Map<string, Row>();
  /** Tokens recorded and not yet committed, per `${day}|${userId}` and per `${day}|${apiKeyId}`. */
  private readonly uncommittedByUser = new Map<string, number>();
  private readonly uncommittedByKey = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly flushMs = USAGE_FLUSH_MS,
  ) {}

  /** Adds one request's tokens; written within about USAGE_FLUSH_MS. */
  record(entry: UsageEntry): void {
    const day = utcDay();
    const apiKeyId = entry.apiKeyId ?? '';
    const key = rowKey(day, entry.userId, apiKeyId, entry.model);
    const row = this.pending.get(key);
    if (row) {
      row.requests += 1;
      row.promptTokens += entry.promptTokens;
      row.completionTokens += entry.completionTokens;
    } else {
      this.pending.set(key, {
        day,
        userId: entry.userId,
        apiKeyId,
        model: entry.model,
        requests: 1,
        promptTokens: entry.promptTokens,
        completionTokens: entry.completionTokens,
      });
    }
    this.count(day, entry.userId, apiKeyId, entry.promptTokens + entry.completionTokens);
    if (this.closed) void this.flush();
    else this.schedule(this.flushMs);
  }

  /** Tokens the user spent today: what is stored plus what this replica has not written yet. */
  async tokensUsedToday(userId: string): Promise<number> {
    // Read before the database: a flush meanwhile then counts twice (safe), never not at all.
    const uncommitted = this.uncommittedByUser.get(`${utcDay()}|${userId}`) ?? 0;
    return (await tokensUsedToday(this.db, userId)) + uncommitted;
  }

  /** The same for one API key. */
  async tokensUsedTodayByKey(apiKeyId: string): Promise<number> {
    const uncommitted = this.uncommittedByKey.get(`${utcDay()}|${apiKeyId}`) ?? 0;
    return (await tokensUsedTodayByKey(this.db, apiKeyId)) + uncommitted;
  }

  /** Writes everything recorded so far; resolves once it is stored (or the write failed and was logged). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One write at a time: rows recorded meanwhile go in the next one.
    while (this.writing) await this.writing;
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    this.writing = this.write(rows).finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  /** On shutdown (before the pool closes): writes what is left, and no more retries after that. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.timer);
    if (this.pending.size > 0) {
      this.logger.error('usage not recorded at shutdown', { rows: this.pending.size });
      this.pending.clear();
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => void this.flush(), delayMs);
    this.timer.unref();
  }

  private async write(rows: Row[]): Promise<void> {
    try {
      await addUsage(this.db, rows);
      for (const r of rows) this.count(r.day, r.userId, r.apiKeyId, -(r.promptTokens + r.completionTokens));
    } catch (error) {
      this.logger.error('could not record usage; retrying with the next batch', { error, rows: rows.length });
      for (const r of rows) this.requeue(r);
      this.schedule(RETRY_MS);
    }
  }

  private requeue(row: Row): void {
    const key = rowKey(row.day, row.userId, row.apiKeyId, row.model);
    const newer = this.pending.get(key);
    if (!newer) {
      this.pending.set(key, row);
      return;
    }
    newer.requests += row.requests;
    newer.promptTokens += row.promptTokens;
    newer.completionTokens += row.completionTokens;
  }

  private count(day: string, userId: string, apiKeyId: string, tokens: number): void {
    add(this.uncommittedByUser, `${day}|${userId}`, tokens);
    if (apiKeyId !== '') add(this.uncommittedByKey, `${day}|${apiKeyId}`, tokens);
  }
}

function add(counts: Map<string, number>, key: string, delta: number): void {
  const total = (counts.get(key) ?? 0) + delta;
  if (total === 0) counts.delete(key);
  else counts.set(key, total);
}
