import type { ServerResponse } from 'node:http';
import type { SimModel } from './models.js';
import type { SimChatReply, SimToolCall } from './reply.js';
import type { Abortable, SimRuntime } from './runtime.js';
import type { GpuTicket, Grant } from './scheduler.js';

/** Ollama's final-chunk durations, in integer nanoseconds, and the prompt tokens it evaluated. */
export interface DoneTimings {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_duration: number;
}

/** How a route puts a reply on the wire (NDJSON, SSE, or one JSON object at the end). */
export interface GenerationWriter {
  token(piece: string): void;
  thinking?(piece: string): void;
  toolCalls?(calls: SimToolCall[]): void;
  /** Writes the final chunk (or the whole reply) and ends the response. */
  done(timings: DoneTimings): void;
}

export interface GenerationPlan {
  model: SimModel;
  reply: SimChatReply;
  keepAliveMs: number;
  /** Prompt tokens before any cache (what `prompt_eval_count` reports without a cache). */
  promptTokens: number;
  /** The prompt as a slot's cache holds it, and what the slot holds after this reply. */
  cacheText: string;
  cacheTextAfter: string;
  /** process.hrtime.bigint() when the request arrived. */
  receivedAt: bigint;
  /** Injected failure: cut the connection once this many tokens are out. */
  dropAfterTokens?: number;
}

type Step =
  | { kind: 'thinking'; text: string }
  | { kind: 'content'; text: string }
  | { kind: 'tools'; calls: SimToolCall[]; cost: number };

function stepsOf(reply: SimChatReply): Step[] {
  const steps: Step[] = reply.thinking.map((text): Step => ({ kind: 'thinking', text }));
  for (const text of reply.tokens) steps.push({ kind: 'content', text });
  if (reply.toolCalls.length > 0) {
    // The model writes the call token by token; the parser hands it over whole at the end.
    const cost = Math.max(1, reply.evalCount - reply.thinking.length);
    steps.push({ kind: 'tools', calls: reply.toolCalls, cost });
  }
  return steps;
}

/**
 * Admits a generation (load, slot, queue) and plays its tokens at the configured pace.
 * Returns false when the queue is full; the caller answers 503.
 */
export function runGeneration(
  rt: SimRuntime,
  res: ServerResponse,
  plan: GenerationPlan,
  writer: GenerationWriter,
): boolean {
  const run = new GenerationRun(rt, res, plan, writer);
  const ticket = rt.scheduler.enter(plan.model, plan.keepAliveMs, plan.cacheText, run.begin);
  if (!ticket) {
    rt.stats.rejectedBusy++;
    return false;
  }
  run.start(ticket);
  return true;
}

// One setTimeout chain per generation; each tick writes every step that is due, so slow ticks catch up.
class GenerationRun implements Abortable {
  private timer: NodeJS.Timeout | undefined;
  private readonly steps: Step[];
  private next = 0;
  private finished = false;
  private begun = false;
  private grant: Grant | undefined;
  private grantedAt = 0n;
  private firstTokenAt = 0n;
  private nextDueMs = 0;
  private ticket: GpuTicket | undefined;
  private promptEvalCount = 0;
  private promptEvalNs = 0;
  private baseIntervalMs = 0;
  private cancelPrefill: (() => void) | undefined;

  constructor(
    private readonly rt: SimRuntime,
    private readonly res: ServerResponse,
    private readonly plan: GenerationPlan,
    private readonly writer: GenerationWriter,
  ) {
    this.steps = stepsOf(plan.reply);
  }

  /** Called with the ticket once the scheduler took the request (it may have begun already). */
  start(ticket: GpuTicket): void {
    this.ticket = ticket;
    this.res.on('close', this.onClose);
    this.rt.inFlight.add(this);
  }

  abort(): void {
    if (this.finished) return;
    this.finish();
    this.res.destroy();
  }

  readonly begin = (grant: Grant): void => {
    if (this.finished) return;
    this.begun = true;
    this.grant = grant;
    this.rt.stats.activeStreams++;
    this.grantedAt = process.hrtime.bigint();
    const { ttftMs, promptTokensPerSecond, promptCache, tokensPerSecond } = this.rt.tunables;
    this.baseIntervalMs = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
    const cachedTokens = promptCache ? Math.floor(grant.cachedChars / 4) : 0;
    // Ollama evaluates at least the last prompt token, even when the whole prompt is cached.
    this.promptEvalCount = Math.max(1, this.plan.promptTokens - cachedTokens);
    if (promptTokensPerSecond <= 0) return this.firstTokenAfter(ttftMs);
    // The prompt waits for its share of the GPU's prompt processing (shared with the other prompts).
    this.cancelPrefill = this.rt.prefill.add(this.promptEvalCount, (durationMs) => {
      this.cancelPrefill = undefined;
      this.promptEvalNs = Math.round(durationMs * 1e6);
      this.firstTokenAfter(ttftMs);
    });
  };

  private firstTokenAfter(delayMs: number): void {
    if (this.finished) return;
    // A first step that is a tool call costs all of its tokens before it appears.
    const first = this.steps[0];
    const firstExtra = first?.kind === 'tools' ? this.intervalMs() * (first.cost - 1) : 0;
    this.nextDueMs = performance.now() + delayMs + firstExtra;
    this.timer = setTimeout(this.tick, delayMs + firstExtra);
  }

  // Decode time per token, slowed by the other busy slots of the model.
  // The pace is fixed when the generation starts (a change of tokensPerSecond affects later ones).
  private intervalMs(): number {
    if (this.baseIntervalMs <= 0) return 0;
    const others = Math.max(0, (this.grant?.busySlots() ?? 1) - 1);
    return this.baseIntervalMs * (1 + this.rt.tunables.busySlotSlowdown * others);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.finished) return;
    const now = performance.now();
    const dropAfter = this.plan.dropAfterTokens;
    while (this.next < this.steps.length) {
      const step = this.steps[this.next] as Step;
      if (this.nextDueMs > now + 0.5) {
        this.timer = setTimeout(this.tick, this.nextDueMs - now);
        return;
      }
      if (this.next === dropAfter) return this.drop();
      if (this.next === 0) this.firstTokenAt = process.hrtime.bigint();
      if (step.kind === 'thinking') this.writer.thinking?.(step.text);
      else if (step.kind === 'content') this.writer.token(step.text);
      else this.writer.toolCalls?.(step.calls);
      this.next++;
      const cost = step.kind === 'tools' ? step.cost : 1;
      this.rt.stats.tokensEmitted += cost;
      // A tool call's tokens all have to be generated before the parser hands it over.
      const following = this.steps[this.next];
      const nextCost = following?.kind === 'tools' ? following.cost : 1;
      this.nextDueMs += this.intervalMs() * nextCost;
    }
    // The drop point is at or past the last step: cut before the final chunk.
    if (dropAfter !== undefined) return this.drop();
    this.complete();
  };

  private complete(): void {
    const doneAt = process.hrtime.bigint();
    const firstTokenAt = this.next > 0 ? this.firstTokenAt : doneAt;
    const receivedAt = this.plan.receivedAt;
    const modelReadyAt = this.grant?.modelReadyAt ?? this.grantedAt;
    this.finish(this.plan.cacheTextAfter);
    this.rt.stats.completed++;
    this.writer.done({
      total_duration: Number(doneAt - receivedAt),
      load_duration: Math.max(0, Number(modelReadyAt - receivedAt)),
      prompt_eval_count: this.promptEvalCount,
      prompt_eval_duration: this.promptEvalNs > 0 ? this.promptEvalNs : Number(firstTokenAt - this.grantedAt),
      eval_duration: Number(doneAt - firstTokenAt),
    });
  }

  // Ends the TCP stream without the final chunk (or any answer), so the client sees a truncated body.
  // What was written so far goes out first: a write is corked until the next tick, and since Node 24
  // the corked chunks stay inside the response (not the socket), so ending the socket alone would
  // lose them (the client would see no answer at all). uncork() hands them to the socket on 20 and 24.
  private drop(): void {
    this.finish();
    this.rt.stats.failures.dropped++;
    const { res } = this;
    const socket = res.socket;
    if (!socket) return void res.destroy();
    for (let corks = res.writableCorked; corks > 0; corks--) res.uncork();
    socket.destroySoon();
  }

  private readonly onClose = (): void => {
    if (this.finished) return;
    this.finish();
    this.rt.stats.cancelled++;
  };

  private finish(cacheText?: string): void {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.cancelPrefill?.();
    this.cancelPrefill = undefined;
    if (this.begun) this.rt.stats.activeStreams--;
    if (this.ticket) this.rt.scheduler.release(this.ticket, cacheText);
    this.rt.inFlight.delete(this);
  }
}
