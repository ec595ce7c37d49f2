/** Token counts from a generation's final chunk (Ollama) or usage object (OpenAI). */
export interface Usage {
  generated: number;
  prompt: number;
}

/** A partial line longer than this is not a final chunk worth parsing (it is a huge non-streamed reply). */
const MAX_PENDING_BYTES = 1 << 20;

const NEWLINE = 0x0a;
const DONE_FALSE = Buffer.from('"done":false');
/** How Ollama ends a token line: found by comparing the line's last bytes, without a search. */
const DONE_FALSE_END = Buffer.from('"done":false}');
const EVAL_COUNT = Buffer.from('"eval_count"');
const USAGE = Buffer.from('"usage"');
const CONTENT = Buffer.from('"content":"');
const SSE_DATA = Buffer.from('data: ');
const SSE_DATA_OBJECT = Buffer.from('data: {');

/**
 * Where a needle next occurs in a chunk at or after a position, remembered between the lines of
 * one chunk so that a chunk of many lines is scanned once per needle, not once per line.
 */
class NextMatch {
  private chunk: Buffer | undefined;
  private at = -1;

  constructor(private readonly needle: Buffer) {}

  /** Whether the needle lies inside [start, end) of chunk (needles hold no newline, lines end at one). */
  within(chunk: Buffer, start: number, end: number): boolean {
    if (chunk !== this.chunk || (this.at !== -1 && this.at < start)) {
      this.chunk = chunk;
      this.at = chunk.indexOf(this.needle, start);
    }
    return this.at !== -1 && this.at < end && this.at + this.needle.length <= end;
  }

  reset(): void {
    this.chunk = undefined;
    this.at = -1;
  }
}

function endsWith(buffer: Buffer, start: number, end: number, suffix: Buffer): boolean {
  if (end - start < suffix.length) return false;
  const from = end - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (buffer[from + i] !== suffix[i]) return false;
  return true;
}

function startsWith(buffer: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * Watches a response go by, without holding it back, and picks out token counts: `eval_count` /
 * `prompt_eval_count` from Ollama's final NDJSON object, `usage` from OpenAI JSON or SSE. Content
 * lines are counted as they pass so the tokens/sec gauge follows a long generation live.
 *
 * It works on the raw bytes: a content line is recognised by a byte search, and only the line that
 * carries the counts (the final one) is decoded and parsed.
 */
export class UsageTap {
  /** The start of a line whose end has not arrived yet (bytes of earlier chunks). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overflowed = false;
  private readonly doneFalse = new NextMatch(DONE_FALSE);
  private readonly evalCount = new NextMatch(EVAL_COUNT);
  private readonly usageKey = new NextMatch(USAGE);
  private readonly content = new NextMatch(CONTENT);
  /** Token-bearing lines seen so far (about one token each). */
  liveTokens = 0;
  usage: Usage | undefined;

  constructor(private readonly onLiveTokens: (count: number) => void = () => {}) {}

  push(chunk: Buffer): void {
    this.doneFalse.reset();
    this.evalCount.reset();
    this.usageKey.reset();
    this.content.reset();
    let start = 0;
    let live = 0;
    for (
      let newline = chunk.indexOf(NEWLINE);
      newline !== -1;
      newline = start < chunk.length ? chunk.indexOf(NEWLINE, start) : -1
    ) {
      if (start === 0 && (this.pendingBytes !== 0 || this.overflowed)) {
        // The first line of this chunk completes the one held from earlier chunks.
        const skip = this.overflowed;
        if (!skip) {
          this.pending.push(chunk.subarray(0, newline));
          const line = Buffer.concat(this.pending);
          live += this.readLine(line, 0, line.length);
        }
        this.pending = [];
        this.pendingBytes = 0;
        this.overflowed = false;
      } else {
        live += this.readLine(chunk, start, newline);
      }
      start = newline + 1;
    }
    if (start < chunk.length) this.hold(start === 0 ? chunk : chunk.subarray(start));
    if (live > 0) {
      this.liveTokens += live;
      this.onLiveTokens(live);
    }
  }

  /** The response ended: a non-streamed reply is one object without a trailing newline. */
  end(): Usage | undefined {
    if (!this.overflowed && this.pendingBytes !== 0) {
      const rest = Buffer.concat(this.pending);
      if (rest.toString('utf8').trim() !== '') this.readLine(rest, 0, rest.length);
    }
    this.pending = [];
    this.pendingBytes = 0;
    return this.usage;
  }

  private hold(bytes: Buffer): void {
    if (this.overflowed) return;
    if (this.pendingBytes + bytes.length > MAX_PENDING_BYTES) {
      this.overflowed = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // A copy: the chunk's memory is the caller's once push returns.
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
  }

  /** Returns how many live tokens the line [start, end) of buffer carried (0 or 1). */
  private readLine(buffer: Buffer, start: number, end: number): number {
    if (endsWith(buffer, start, end, DONE_FALSE_END) || this.doneFalse.within(buffer, start, end)) return 1;
    if (this.evalCount.within(buffer, start, end) || this.usageKey.within(buffer, start, end)) {
      const from = startsWith(buffer, start, end, SSE_DATA) ? start + SSE_DATA.length : start;
      this.readUsage(buffer.toString('utf8', from, end));
      return 0;
    }
    return startsWith(buffer, start, end, SSE_DATA_OBJECT) && this.content.within(buffer, start, end) ? 1 : 0;
  }

  private readUsage(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== 'object') return;
    const object = parsed as Record<string, unknown>;
    const usage = object.usage as Record<string, unknown> | undefined | null;
    const generated = numberOr(object.eval_count, usage?.completion_tokens);
    const prompt = numberOr(object.prompt_eval_count, usage?.prompt_tokens);
    if (generated === undefined && prompt === undefined) return;
    this.usage = { generated: generated ?? 0, prompt: prompt ?? 0 };
  }
}

function numberOr(first: unknown, second: unknown): number | undefined {
  if (typeof first === 'number' && Number.isFinite(first)) return first;
  if (typeof second === 'number' && Number.isFinite(second)) return second;
  return undefined;
}
