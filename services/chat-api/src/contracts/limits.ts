import { z } from 'zod';

const INT32_MAX = 2_147_483_647;
const limit = z.number().int().min(0).max(INT32_MAX).nullable();
const modelName = z.string().trim().min(1).max(200);

/**
 * `PUT /api/admin/users/:userId/limits`: fields sent are replaced (`null` = back to the
 * deployment default), fields left out keep their value. `0` means unlimited, as in the env.
 */
export const userLimitsPatch = z
  .object({
    requestsPerMinute: limit,
    dailyTokenBudget: limit,
    maxConcurrentStreams: limit,
    /** `null` or `[]` = no per-user restriction. */
    allowedModels: z.array(modelName).max(200).nullable(),
  })
  .partial()
  .strict();
export type UserLimitsPatch = z.infer<typeof userLimitsPatch>;

/** What an admin stored for a user; `null` = the deployment default applies. */
export const userLimitsView = z.object({
  userId: z.string(),
  requestsPerMinute: z.number().int().nullable(),
  dailyTokenBudget: z.number().int().nullable(),
  maxConcurrentStreams: z.number().int().nullable(),
  allowedModels: z.array(z.string()).nullable(),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type UserLimitsView = z.infer<typeof userLimitsView>;

/** `PUT /api/admin/api-keys/:keyId/limits`: `null` = DAILY_TOKEN_BUDGET_PER_KEY applies. */
export const apiKeyLimitsPatch = z.object({ dailyTokenBudget: limit }).strict();
export type ApiKeyLimitsPatch = z.infer<typeof apiKeyLimitsPatch>;
