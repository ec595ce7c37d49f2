import type { ServerResponse } from 'node:http';
import type { Ticket } from './admission.js';
import type { SimReply } from './generator.js';
import type { Abortable, SimRuntime } from './runtime.js';

/** Ollama's final-chunk durations, in integer nanoseconds. */
export interface DoneTimings {
  total_duration: number;
  load_duration: number;
  prompt_eval_duration: number;
  eval_duration: number;
}

/** How a route puts tokens on the wire (NDJSON, SSE, or one JSON object at the end). */
export interface GenerationWriter {
  token(piece: string): void;
  /** Writes the final chunk (or the whole reply) and ends the response. */
  done(timings: DoneTimings): void;
}

export interface GenerationPlan {
  reply: SimReply;
  /** process.hrtime.bigint() when the request arrived. */
  receivedAt: bigint;
  /** Injected failure: cut the connection once this many tokens are out. */
  dropAfterTokens?: number;
}

/**
 * Admits a generation and plays its tokens at the configured pace.
 * Returns false when the queue is full; the caller answers 503.
 */
export function runGeneration(
  rt: SimRuntime,
  res: ServerResponse,
  plan: GenerationPlan,
  writer: GenerationWriter,
): boolean {
  const ticket = rt.admission.tryEnter();
  if (!ticket) {
    rt.stats.rejectedBusy++;
    return false;
  }
  new GenerationRun(rt, res, plan, writer, ticket).start();
  return true;
}

// One setTimeout chain per generation; each tick writes every token that is due, so slow ticks catch up.
class GenerationRun implements Abortable {
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private finished = false;
  private begun = false;
  private grantedAt = 0n;
  private firstTokenAt = 0n;
  private firstDueMs = 0;
  private intervalMs = 0;

  constructor(
    private readonly rt: SimRuntime,
    private readonly res: ServerResponse,
    private readonly plan: GenerationPlan,
    private readonly writer: GenerationWriter,
    private readonly ticket: Ticket,
  ) {}

  start(): void {
    this.res.on('close', this.onClose);
    this.rt.inFlight.add(this);
    if (this.ticket.state === 'running') this.begin();
    else this.ticket.onGrant = this.begin;
  }

  abort(): void {
    if (this.finished) return;
    this.finish();
    this.res.destroy();
  }

  private readonly begin = (): void => {
    if (this.finished) return;
    this.begun = true;
    this.rt.stats.activeStreams++;
    this.grantedAt = process.hrtime.bigint();
    const { ttftMs, tokensPerSecond } = this.rt.tunables;
    this.intervalMs = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
    this.firstDueMs = performance.now() + ttftMs;
    this.timer = setTimeout(this.tick, ttftMs);
  };

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.finished) return;
    const now = performance.now();
    const tokens = this.plan.reply.tokens;
    const dropAfter = this.plan.dropAfterTokens;
    while (this.next < tokens.length) {
      const dueMs = this.firstDueMs + this.next * this.intervalMs;
      if (dueMs > now + 0.5) {
        this.timer = setTimeout(this.tick, dueMs - now);
        return;
      }
      if (this.next === dropAfter) return this.drop();
      if (this.next === 0) this.firstTokenAt = process.hrtime.bigint();
      this.writer.token(tokens[this.next] as string);
      this.next++;
      this.rt.stats.tokensEmitted++;
    }
    // The drop point is at or past the last token: cut before the final chunk.
    if (dropAfter !== undefined) return this.drop();
    this.complete();
  };

  private complete(): void {
    const doneAt = process.hrtime.bigint();
    const firstTokenAt = this.next > 0 ? this.firstTokenAt : doneAt;
    const receivedAt = this.plan.receivedAt;
    this.finish();
    this.rt.stats.completed++;
    this.writer.done({
      total_duration: Number(doneAt - receivedAt),
      load_duration: Number(this.grantedAt - receivedAt),
      prompt_eval_duration: Number(firstTokenAt - this.grantedAt),
      eval_duration: Number(doneAt - firstTokenAt),
    });
  }

  // Ends the TCP stream without the final chunk (or any answer), so the client sees a truncated body.
  private drop(): void {
    this.finish();
    this.rt.stats.failures.dropped++;
    const socket = this.res.socket;
    if (socket) socket.destroySoon();
    else this.res.destroy();
  }

  private readonly onClose = (): void => {
    if (this.finished) return;
    this.finish();
    this.rt.stats.cancelled++;
  };

  private finish(): void {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.begun) this.rt.stats.activeStreams--;
    this.rt.admission.release(this.ticket);
    this.rt.inFlight.delete(this);
  }
}
