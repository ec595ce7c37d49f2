import type { z } from 'zod';
import { AppError } from './errors.js';

const MAX_REPORTED_ISSUES = 20;

/** Parses request input with a zod schema; failures become a 400 naming each bad field. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: 'body' | 'query' | 'params' | 'headers' = 'body',
): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = errors[0];
  throw new AppError(
    'validation_failed',
    first ? `${first.path}: ${first.message}` : `Invalid request ${where}`,
    {
      extensions: { errors },
    },
  );
}
