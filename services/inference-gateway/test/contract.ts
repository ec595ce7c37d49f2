import { backendPool, backendView, openAiError, problemDetails, pullLine } from '@corral/contracts';
import { type ContractRoute, PROBE_ROUTES, contractCheck } from '@corral/test-support';
import { afterEach } from 'vitest';
import { type ZodType, z } from 'zod';

/**
 * An error on a wire route: one the gateway made is a problem document plus the wire's own
 * `error` (a string for Ollama, OpenAI's object on /v1); one relayed from a backend is as the
 * backend wrote it (Ollama's `{"error": …}`).
 */
function wireErrors(error: ZodType): ZodType {
  const made = problemDetails.and(z.object({ error }));
  const relayed = z.object({ error: z.union([z.string(), z.looseObject({ message: z.string() })]) });
  return z.unknown().superRefine((body, issues) => {
    const madeHere = typeof body === 'object' && body !== null && 'code' in body;
    const parsed = (madeHere ? made : relayed).safeParse(body);
    for (const issue of parsed.error?.issues ?? []) {
      issues.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  });
}

/** Every route the gateway answers, with the contract of its answer. */
export const GATEWAY_ROUTES: readonly ContractRoute[] = [
  { method: 'GET', path: '/admin/backends', body: backendPool },
  { method: 'POST', path: '/admin/backends/:id/drain', body: backendView },
  { method: 'POST', path: '/admin/models/pull', body: null, lines: pullLine },
  // Ollama's and OpenAI's wire formats: the ollama and openai clients in the tests read them.
  { method: '*', path: '/api/*', body: null, errors: wireErrors(z.string()) },
  { method: '*', path: '/v1/*', body: null, errors: wireErrors(openAiError) },
  { method: '*', path: '/', body: null },
  ...PROBE_ROUTES,
];

/** Every gateway this file's tests start answers through this check; each test ends with it clean. */
export const contract = contractCheck(GATEWAY_ROUTES, problemDetails);

afterEach(() => contract.assertClean());
