import { expect } from 'vitest';
import { startOllamaSim, type OllamaSim, type OllamaSimOptions } from '../src/index.js';

/** A quiet simulator for tests: no start-up line, no pacing unless asked. */
export function startQuietSim(options: OllamaSimOptions = {}): Promise<OllamaSim> {
  return startOllamaSim({ logger: null, tokensPerSecond: 0, ttftMs: 0, ...options });
}

/** Polls until `check` is true; fails after `timeoutMs` with `what` in the message. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
}

/** Reads a response body to the end and splits NDJSON lines (the last line must end with a newline). */
export async function ndjsonLines(response: Response): Promise<unknown[]> {
  const text = await response.text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

/** Reads from a stream until at least `count` complete NDJSON lines arrived. */
export async function readLines(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  count: number,
): Promise<Array<Record<string, unknown>>> {
  const decoder = new TextDecoder();
  let buffered = '';
  while (buffered.split('\n').length - 1 < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
  }
  return buffered
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
