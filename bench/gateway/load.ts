import { Agent, request } from 'node:http';

export interface LoadResult {
  concurrency: number;
  seconds: number;
  requests: number;
  errors: number;
  tokens: number;
  /** Every token streamed, also those of the requests finishing after the window (the CPU sample covers them). */
  allTokens: number;
  ttftMs: { p50: number; p90: number; p99: number; max: number };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const NEWLINE = 10;

function countNewlines(chunk: Buffer): number {
  let count = 0;
  for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) count += 1;
  return count;
}

/**
 * Closed loop: `concurrency` clients each send streaming /api/chat requests back to back for
 * `seconds`. Counts tokens (NDJSON lines before the final one) arriving inside the window,
 * requests finishing inside it, and each request's time to its first token.
 */
export async function driveLoad(
  baseUrl: string,
  concurrency: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const url = new URL('/api/chat', baseUrl);
  const start = performance.now();
  const end = start + seconds * 1000;
  const ttfts: number[] = [];
  let tokens = 0;
  let allTokens = 0;
  let requests = 0;
  let errors = 0;
  let sequence = 0;

  const oneRequest = () =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({
        model: 'llama3.2',
        messages: [{ role: 'user', content: `benchmark question ${sequence++}` }],
        stream: true,
      });
      const sent = performance.now();
      let first = true;
      let last: Buffer = Buffer.alloc(0);
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            const now = performance.now();
            if (first) {
              first = false;
              if (sent < end) ttfts.push(now - sent);
            }
            // Every line but the final (done) one is a token.
            const count = countNewlines(chunk) - (chunk.includes('"done":true') ? 1 : 0);
            allTokens += count;
            if (now < end) tokens += count;
            last = chunk;
          });
          res.on('end', () => {
            const finishedInWindow = performance.now() < end;
            const ok = res.statusCode === 200 && last.includes('"done":true') && !last.includes('"error"');
            if (finishedInWindow) {
              if (ok) requests += 1;
              else errors += 1;
            }
            resolve();
          });
          res.on('error', () => {
            errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(body);
    });

  const client = async () => {
    while (performance.now() < end) await oneRequest();
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  agent.destroy();
  ttfts.sort((a, b) => a - b);
  return {
    concurrency,
    seconds,
    requests,
    errors,
    tokens,
    allTokens,
    ttftMs: {
      p50: percentile(ttfts, 50),
      p90: percentile(ttfts, 90),
      p99: percentile(ttfts, 99),
      max: ttfts.at(-1) ?? Number.NaN,
    },
  };
}
