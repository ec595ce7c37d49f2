import { StringDecoder } from 'node:string_decoder';

/** Token counts from a generation's final chunk (Ollama) or usage object (OpenAI). */
export interface Usage {
  generated: number;
  prompt: number;
}

/** A partial line longer than this is not a final chunk worth parsing (it is a huge non-streamed reply). */
const MAX_PENDING_CHARS = 1 << 20;

/**
 * Watches a response go by, without holding it back, and picks out token counts: `eval_count` /
 * `prompt_eval_count` from Ollama's final NDJSON object, `usage` from OpenAI JSON or SSE. Content
 * lines are counted as they pass so the tokens/sec gauge follows a long generation live.
 */
export class UsageTap {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overflowed = false;
  /** Token-bearing lines seen so far (about one token each). */
  liveTokens = 0;
  usage: Usage | undefined;

  constructor(private readonly onLiveTokens: (count: number) => void = () => {}) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    let live = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline);
      if (start === 0 && (this.pending !== '' || this.overflowed)) {
        // The first line of this chunk completes the one held from earlier chunks.
        const skip = this.overflowed;
        const line = this.pending + piece;
        this.pending = '';
        this.overflowed = false;
        if (!skip) live += this.readLine(line);
      } else {
        live += this.readLine(piece);
      }
      start = newline + 1;
    }
    this.hold(start === 0 ? text : text.slice(start));
    if (live > 0) {
      this.liveTokens += live;
      this.onLiveTokens(live);
    }
  }

  /** The response ended: a non-streamed reply is one object without a trailing newline. */
  end(): Usage | undefined {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (!this.overflowed && rest.trim() !== '') this.readLine(rest);
    return this.usage;
  }

  private hold(text: string): void {
    if (this.overflowed) return;
    if (this.pending.length + text.length > MAX_PENDING_CHARS) {
      this.overflowed = true;
      this.pending = '';
      return;
    }
    this.pending += text;
  }

  /** Returns how many live tokens the line carried (0 or 1). */
  private readLine(raw: string): number {
    const line = raw.startsWith('data: ') ? raw.slice(6) : raw;
    if (line.includes('"done":false')) return 1;
    if (line.includes('"eval_count"') || line.includes('"usage"')) {
      this.readUsage(line);
      return 0;
    }
    return raw.startsWith('data: {') && line.includes('"content":"') ? 1 : 0;
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
