import type { Logger } from '@corral/service-kit';
import { z } from 'zod';
import type { Database } from '../data/db.js';
import { type ReplyOutcome, type ReplyUsage, saveReplyOutcome } from '../data/replies.js';
import { appendSpill, takeSpill } from '../data/spill-file.js';
import type { ChatMetrics } from '../metrics.js';

/** A reply's final state waiting to be stored. */
export interface FinalSave {
  messageId: string;
  outcome: ReplyOutcome;
  usage: ReplyUsage;
}

const finalSaveSchema = z.object({
  messageId: z.string().uuid(),
  outcome: z.object({
    status: z.enum(['complete', 'stopped', 'error', 'interrupted']),
    content: z.string(),
    // Absent in records spilled by a release that did not save the reasoning.
    reasoning: z.string().nullable().default(null),
    error: z.string().nullable(),
    promptTokens: z.number().int().nullable(),
    completionTokens: z.number().int(),
    durationMs: z.number().int(),
  }),
  usage: z.object({ userId: z.string(), apiKeyId: z.string().nullable(), model: z.string() }),
});

/** What a pending save holds in memory, roughly: its text (UTF-16) and the rest. */
const sizeOf = (save: FinalSave) =>
  (save.outcome.content.length + (save.outcome.reasoning?.length ?? 0)) * 2 + 256;

export interface FinalSavesOptions {
  db: Database;
  logger: Logger;
  metrics: ChatMetrics;
  /** Where pending saves go at shutdown (and beyond `maxBytes`); read back by the next start. */
  spillFile: string;
  /** Text kept in memory for pending saves; past it, new ones go straight to the spill file. */
  maxBytes: number;
  /** First retry after this long, doubling up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * The final save of every reply. A save that fails (PostgreSQL away) is kept and retried with
 * backoff until it succeeds: a finished reply is never lost, and while its save is pending the sweep
 * leaves its row alone (it is not `interrupted`). Memory is bounded by `maxBytes` (overflow is
 * written to the spill file); at shutdown what is still pending is tried once more, then spilled;
 * `replay()` at start saves what a previous process spilled. The save statement is idempotent (a
 * reply already finalised is not counted twice), so a retry after a lost acknowledgement is safe.
 */
export class FinalSaves {
  private readonly pending = new Map<string, FinalSave>();
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private retrying: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: FinalSavesOptions) {
    this.delayMs = options.minRetryMs ?? 250;
  }

  /** Ids of replies whose final save is pending here. */
  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  isPending(messageId: string): boolean {
    return this.pending.has(messageId);
  }

  /** Saves at once; on failure keeps it for retry. True when it is stored now. */
  async save(save: FinalSave): Promise<boolean> {
    try {
      await saveReplyOutcome(this.options.db, save.messageId, save.outcome, save.usage);
      return true;
    } catch (error) {
      this.options.logger.warn('final save of a reply failed; kept and retried', {
        error,
        messageId: save.messageId,
      });
      await this.keep(save);
      return false;
    }
  }

  /** Saves what a previous process left in the spill file (before the sweep runs). */
  async replay(): Promise<number> {
    const records = await takeSpill(this.options.spillFile);
    let count = 0;
    for (const record of records) {
      const parsed = finalSaveSchema.safeParse(record);
      if (!parsed.success) {
        this.options.logger.error('unreadable record in the pending-save spill file skipped');
        continue;
      }
      count += 1;
      await this.save(parsed.data);
    }
    if (count > 0) this.options.logger.info('pending reply saves replayed from the spill file', { count });
    return count;
  }

  /** Tries every pending save once more; what still fails is written to the spill file. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.retrying;
    await this.retryAll();
    const left = [...this.pending.values()];
    if (left.length === 0) return;
    await appendSpill(this.options.spillFile, left);
    this.options.logger.error('pending reply saves written to the spill file for the next start', {
      count: left.length,
      file: this.options.spillFile,
    });
    for (const save of left) this.forget(save.messageId);
  }

  private async keep(save: FinalSave): Promise<void> {
    const size = sizeOf(save);
    if (this.closed || this.bytes + size > this.options.maxBytes) {
      await appendSpill(this.options.spillFile, [save]);
      this.options.logger.error('pending reply save written to the spill file (memory bound reached)', {
        messageId: save.messageId,
        file: this.options.spillFile,
      });
      return;
    }
    if (!this.pending.has(save.messageId)) this.bytes += size;
    this.pending.set(save.messageId, save);
    this.options.metrics.pendingFinalSaves.set(this.pending.size);
    this.schedule();
  }

  private forget(messageId: string): void {
    const save = this.pending.get(messageId);
    if (!save) return;
    this.pending.delete(messageId);
    this.bytes -= sizeOf(save);
    this.options.metrics.pendingFinalSaves.set(this.pending.size);
  }

  private schedule(): void {
    if (this.timer || this.retrying || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retrying = this.retryAll().finally(() => {
        this.retrying = undefined;
        if (this.pending.size > 0) this.schedule();
      });
    }, this.delayMs);
    this.timer.unref();
  }

  private async retryAll(): Promise<void> {
    for (const save of [...this.pending.values()]) {
      this.options.metrics.finalSaveRetries.inc();
      try {
        await saveReplyOutcome(this.options.db, save.messageId, save.outcome, save.usage);
      } catch (error) {
        // Still away: back off and try the lot again later.
        this.delayMs = Math.min(this.delayMs * 2, this.options.maxRetryMs ?? 10_000);
        this.options.logger.warn('database still unavailable for pending reply saves', {
          pending: this.pending.size,
          retryInMs: this.delayMs,
          error,
        });
        return;
      }
      this.forget(save.messageId);
      this.options.logger.info('pending reply save stored', { messageId: save.messageId });
    }
    this.delayMs = this.options.minRetryMs ?? 250;
  }
}
