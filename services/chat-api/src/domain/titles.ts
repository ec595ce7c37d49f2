import type { Logger } from '@corral/service-kit';
import { saveGeneratedTitle, titleSourceOf } from '../data/conversations.js';
import type { Database } from '../data/db.js';
import type { ChatMetrics } from '../metrics.js';
import type { ChatRequest, GatewayClient } from './gateway.js';
import type { UsageLedger } from './usage-ledger.js';

export const TITLE_MAX_CHARS = 80;
/** Enough for a few words; keeps a chatty model from writing an essay. */
const TITLE_MAX_TOKENS = 24;
/** How much of the exchange the title model sees. */
const EXCERPT_CHARS = 2000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Shortens to `max` characters at a word boundary, with an ellipsis. */
export function shorten(text: string, max = TITLE_MAX_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The title right after the first message: its first line (replaced by a generated one later). */
export function firstLineTitle(content: string): string {
  return shorten((content.trim().split('\n')[0] ?? '').trim());
}

/** What the title model is asked (exported so tests can predict ollama-sim's answer). */
export function titleRequest(model: string, question: string, answer: string): ChatRequest {
  return {
    model,
    messages: [
      {
        role: 'system',
        content:
          'You name chat conversations. Answer with a title of at most six words that says what the ' +
          'conversation is about: no quotes, no trailing punctuation, nothing else.',
      },
      {
        role: 'user',
        content: `Write a short title for this conversation.\n\nUser: ${clip(question, EXCERPT_CHARS)}\n\nAssistant: ${clip(answer, EXCERPT_CHARS)}`,
      },
    ],
    options: { num_predict: TITLE_MAX_TOKENS, temperature: 0.2 },
  };
}

/** A model's answer made into a title: first line, no "Title:" label, quotes, markdown or end punctuation. */
export function cleanTitle(raw: string): string {
  const line =
    raw
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  const cleaned = line
    .replace(/^(title\s*:\s*)/i, '')
    .replace(/^[#*_\s"'“”‘’`]+|[*_\s"'“”‘’`]+$/g, '')
    .replace(/[.:;,!]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return shorten(cleaned);
}

export interface TitleJob {
  conversationId: string;
  userId: string;
  /** The conversation's model, used when TITLE_MODEL is unset. */
  model: string;
  question: string;
  answer: string;
}

export interface TitleWriterOptions {
  db: Database;
  gateway: GatewayClient;
  logger: Logger;
  metrics: ChatMetrics;
  usage: UsageLedger;
  enabled: boolean;
  /** TITLE_MODEL; undefined = the conversation's model. */
  model: string | undefined;
  timeoutMs: number;
}

/**
 * Writes a short title after a conversation's first exchange, in the background: the reply is
 * never delayed, a failure only leaves the first-line title in place, and a title the user set
 * meanwhile is never replaced (the update is conditional on `title_source`).
 */
export class TitleWriter {
  private readonly pending = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly options: TitleWriterOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  schedule(job: TitleJob): void {
    if (!this.options.enabled || this.shutdown.signal.aborted) return;
    const task = this.write(job).catch((error: unknown) => {
      this.options.metrics.titles.inc({ outcome: 'failed' });
      this.options.logger.warn('could not generate a conversation title', {
        error,
        conversationId: job.conversationId,
      });
    });
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Resolves when every scheduled title is written or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** On shutdown: abandon titles still being written. */
  async close(): Promise<void> {
    this.shutdown.abort();
    await this.idle();
  }

  private async write(job: TitleJob): Promise<void> {
    const { db, gateway, metrics } = this.options;
    const titleSource = await titleSourceOf(db, job.conversationId);
    // Deleted, renamed by the user, or titled already: nothing to do, no GPU spent.
    if (titleSource !== 'none' && titleSource !== 'auto') {
      metrics.titles.inc({ outcome: 'skipped' });
      return;
    }
    const model = this.options.model ?? job.model;
    let text = '';
    const done = await gateway.chat(
      titleRequest(model, job.question, job.answer),
      (piece) => (text += piece),
      AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.options.timeoutMs)]),
    );
    const promptTokens = done.promptTokens ?? 0;
    const completionTokens = done.completionTokens ?? 0;
    metrics.tokens.inc({ direction: 'in', model: metrics.models.label(model) }, promptTokens);
    metrics.tokens.inc({ direction: 'out', model: metrics.models.label(model) }, completionTokens);
    // The tokens were spent for this user's conversation: they count in their usage.
    this.options.usage.record({ userId: job.userId, apiKeyId: null, model, promptTokens, completionTokens });
    const title = cleanTitle(text);
    if (title === '') {
      metrics.titles.inc({ outcome: 'empty' });
      return;
    }
    const saved = await saveGeneratedTitle(db, job.conversationId, title);
    metrics.titles.inc({ outcome: saved ? 'generated' : 'skipped' });
  }
}
