const EVENT_END = Buffer.from('\n\n');

/** The closing event `stream_options.include_usage` adds: no choices, only token counts. */
function isUsageOnlyEvent(event: Buffer): boolean {
  return event.includes('"choices":[]') && event.includes('"usage":{');
}

/**
 * Asks an OpenAI-style chat stream for token counts the client did not ask for: the request gets
 * `stream_options.include_usage`, and the extra usage event is taken out of what the client sees.
 * Returns undefined when the client asked itself (it then gets the event) or is not streaming.
 */
export function requestUsageOnBehalf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  if (body.stream !== true) return undefined;
  const given = body.stream_options;
  const options = given !== null && typeof given === 'object' ? (given as Record<string, unknown>) : {};
  if (options.include_usage === true) return undefined;
  return { ...body, stream_options: { ...options, include_usage: true } };
}

/**
 * Passes SSE events through unchanged except the usage-only one. Whole events go at once; only the
 * incomplete tail of a chunk (a few bytes when TCP splits an event) waits for the rest.
 */
export class UsageEventFilter {
  private pending: Buffer | undefined;

  push(chunk: Buffer): Buffer {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    // Fast path: whole events and none of them the usage one.
    if (data.subarray(-2).equals(EVENT_END) && !data.includes('"choices":[]')) return data;
    const kept: Buffer[] = [];
    let start = 0;
    for (let end = data.indexOf(EVENT_END, start); end !== -1; end = data.indexOf(EVENT_END, start)) {
      const event = data.subarray(start, end + 2);
      if (!isUsageOnlyEvent(event)) kept.push(event);
      start = end + 2;
    }
    if (start < data.length) this.pending = Buffer.from(data.subarray(start));
    return kept.length === 1 ? (kept[0] as Buffer) : Buffer.concat(kept);
  }

  /** What is left when the stream ends (an unterminated last event), passed on as it was. */
  end(): Buffer {
    const rest = this.pending ?? Buffer.alloc(0);
    this.pending = undefined;
    return rest;
  }
}
