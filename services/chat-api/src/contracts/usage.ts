import { z } from 'zod';

/** `GET /api/usage`: the caller's own tokens by UTC day and model. */
export const usageQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

export const usageRow = z.object({
  day: z.string(),
  model: z.string(),
  requests: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
});
export type UsageRow = z.infer<typeof usageRow>;

/** `GET /api/admin/usage`: every user's tokens by day, user and model, newest day first, paged. */
export const adminUsageQuery = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30),
  userId: z.string().trim().min(1).max(200).optional(),
  model: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1000).optional(),
});
export type AdminUsageQuery = z.infer<typeof adminUsageQuery>;

export const adminUsageRow = usageRow.extend({ userId: z.string() });
export type AdminUsageRow = z.infer<typeof adminUsageRow>;
