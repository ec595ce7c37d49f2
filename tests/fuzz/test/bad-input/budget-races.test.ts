// Issue 21, finding 3: budgets hold under concurrency. Random daily budgets, each raced by a random
// number of parallel requests over every generating path (the conversation route in a session,
// /v1 chat completions streamed and not, with and without max_tokens, through an API key): the
// tokens generated in a day never pass the budget, and every refusal is the budget's 429. The
// reservations live in the stack's Redis, shared by the requests of every path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { call, createConversation, loginAdmin, signUp } from '../support/http.js';
import { fuzzParams } from '../support/fuzz.js';
import { fuzzStack } from '../support/shared-stack.js';

type Path = 'conversation' | 'v1' | 'v1 stream' | 'v1 max_tokens';
const PATHS: Path[] = ['conversation', 'v1', 'v1 stream', 'v1 max_tokens'];

interface Outcome {
  path: Path;
  status: number;
  code: string | undefined;
}

/** Sends one request on `path`; the status and error code of the answer (or of its SSE error). */
async function send(path: Path, i: number, session: string, key: string): Promise<Outcome> {
  const { chatUrl } = fuzzStack();
  const messages = [{ role: 'user', content: `race ${i}: tell me a long story` }];
  let res: Response;
  if (path === 'conversation') {
    const id = await createConversation(chatUrl, session, `race ${i}`);
    res = await fetch(`${chatUrl}/api/conversations/${id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: messages[0]!.content }),
    });
  } else {
    const body = {
      model: 'llama3.2',
      messages,
      ...(path === 'v1 stream' ? { stream: true } : {}),
      ...(path === 'v1 max_tokens' ? { max_tokens: 5 + (i % 40) } : {}),
    };
    res = await fetch(`${chatUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
  const text = await res.text();
  let code: string | undefined;
  if (res.status !== 200) {
    const parsed = JSON.parse(text) as { code?: string; error?: { code?: string } };
    code = parsed.code ?? parsed.error?.code;
  }
  return { path, status: res.status, code };
}

describe('daily budgets under concurrent requests on every path (Redis reservations)', () => {
  it('the tokens generated never pass the budget; refusals are 429 quota', { timeout: 300_000 }, async () => {
    const { authUrl, chatUrl } = fuzzStack();
    const admin = await loginAdmin(authUrl);
    await fc.assert(
      fc.asyncProperty(
        // The sim's replies are 24 tokens: at least 6 requests always ask for more than the budget.
        fc.integer({ min: 10, max: 100 }),
        fc.array(fc.constantFrom(...PATHS), { minLength: 6, maxLength: 24 }),
        async (budget, paths) => {
          const user = await signUp(authUrl, 'budget-race');
          const created = await call(authUrl, '/api/auth/api-keys', {
            token: user.token,
            body: { name: 'race' },
          });
          expect(created.status, created.text).toBe(201);
          const key = (created.json as { key: string }).key;
          const limits = await call(chatUrl, `/api/admin/users/${user.id}/limits`, {
            method: 'PUT',
            token: admin.token,
            body: { dailyTokenBudget: budget },
          });
          expect(limits.status, limits.text).toBe(200);

          const outcomes = await Promise.all(paths.map((path, i) => send(path, i, user.token, key)));
          const unexpected = outcomes.filter(
            (o) =>
              o.status !== 200 &&
              !(o.status === 429 && (o.code === 'quota_exceeded' || o.code === 'insufficient_quota')),
          );
          expect(unexpected, `budget ${budget}`).toEqual([]);
          expect(outcomes.some((o) => o.status === 200)).toBe(true);

          // GET /api/usage writes this replica's pending usage first: the day as stored.
          const usage = await call(chatUrl, '/api/usage?days=1', { token: user.token });
          expect(usage.status, usage.text).toBe(200);
          const rows = (usage.json as { items: { completionTokens: number; requests: number }[] }).items;
          const generated = rows.reduce((sum, row) => sum + row.completionTokens, 0);
          const served = rows.reduce((sum, row) => sum + row.requests, 0);
          expect(served).toBe(outcomes.filter((o) => o.status === 200).length);
          // Generation stops when the reservation is spent: the replies never pass the budget
          // (the prompts' tokens may, by at most the admitted requests' prompts).
          expect(generated, `budget ${budget}, ${paths.length} requests`).toBeLessThanOrEqual(budget);
        },
      ),
      fuzzParams(6),
    );
  });
});
