import { z } from 'zod';
import { storageUsage } from './attachments.js';

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

/** `GET /api/usage`: the caller's rows, their daily budget (null = none) and what today has used. */
export const usageResponse = z.object({
  items: z.array(usageRow),
  dailyTokenBudget: z.number().int().positive().nullable(),
  tokensUsedToday: z.number().int().min(0),
  /** Attachment storage: used bytes and the quota that applies. */
  storage: storageUsage,
});
export type UsageResponse = z.infer<typeof usageResponse>;

/** `GET /api/admin/usage`: one page of every user's rows. */
export const adminUsagePage = z.object({ items: z.array(adminUsageRow), nextCursor: z.string().nullable() });
export type AdminUsagePage = z.infer<typeof adminUsagePage>;

const usageTotals = z.object({
  requests: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
});

/** `GET /api/metrics/chat`: today's usage for admins, and this replica's live generations. */
export const chatSummary = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  activeUsers: z.number().int().min(0),
  byModel: z.array(usageTotals.extend({ model: z.string() })),
  totals: usageTotals,
  replica: z.object({ activeGenerations: z.number().int().min(0) }),
});
export type ChatSummary = z.infer<typeof chatSummary>;

/** `GET /api/admin/usage/groups?days=`: tokens of each group's current members over the last `days` (a user in two groups counts in both). */
export const groupUsageQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
export const groupUsageResponse = z.object({
  items: z.array(
    z.object({
      groupId: z.string(),
      name: z.string(),
      members: z.number().int().min(0),
      requests: z.number().int(),
      promptTokens: z.number().int(),
      completionTokens: z.number().int(),
    }),
  ),
});
export type GroupUsageResponse = z.infer<typeof groupUsageResponse>;
