import type { z } from 'zod';
import { AppError } from './errors.js';

const MAX_REPORTED_ISSUES = 20;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface InputIssue {
  path: string;
  message: string;
}

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode (unpaired surrogate)';
  return undefined;
}

/**
 * Text PostgreSQL cannot store (NUL in `text`, unpaired surrogates in `jsonb`) is refused here,
 * at the one place every route validates input, instead of failing later as a 500.
 */
function findUnstorableText(value: unknown, path: string[], depth = 0): InputIssue | undefined {
  if (depth > 64) return undefined;
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? { path: path.join('.'), message } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const keyMessage = textProblem(key);
    if (keyMessage) return { path: path.join('.'), message: `has a key that ${keyMessage}` };
    const found = findUnstorableText(inner, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function validationError(where: string, errors: InputIssue[]): AppError {
  const first = errors[0];
  return new AppError(
    'validation_failed',
    first ? `${first.path}: ${first.message}` : `Invalid request ${where}`,
    {
      extensions: { errors },
    },
  );
}

/** Parses request input with a zod schema; failures become a 400 naming each bad field. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: 'body' | 'query' | 'params' | 'headers' = 'body',
): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = result.error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    throw validationError(where, errors);
  }
  const unstorable = findUnstorableText(result.data, [where]);
  if (unstorable) throw validationError(where, [unstorable]);
  return result.data;
}
