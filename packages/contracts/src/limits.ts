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
    /** Attachment storage in MiB (`0` = no quota). */
    storageQuotaMb: limit,
  })
  .partial()
  .strict();
export type UserLimitsPatch = z.infer<typeof userLimitsPatch>;

/** The limits a user may have set; `null` = the deployment default. */
const limitValues = z.object({
  requestsPerMinute: z.number().int().nullable(),
  dailyTokenBudget: z.number().int().nullable(),
  maxConcurrentStreams: z.number().int().nullable(),
  allowedModels: z.array(z.string()).nullable(),
  storageQuotaMb: z.number().int().nullable(),
});
export type UserLimits = z.infer<typeof limitValues>;

/** What an admin stored for a user; `null` = the deployment default applies. */
export const userLimitsView = limitValues.extend({
  userId: z.string(),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type UserLimitsView = z.infer<typeof userLimitsView>;

/** `PUT /api/admin/api-keys/:keyId/limits`: `null` = DAILY_TOKEN_BUDGET_PER_KEY applies. */
export const apiKeyLimitsPatch = z.object({ dailyTokenBudget: limit }).strict();
export type ApiKeyLimitsPatch = z.infer<typeof apiKeyLimitsPatch>;

/** What applies to a user once stored values and defaults are combined (`0` = unlimited). */
export const effectiveLimits = z.object({
  /** The user's groups, by name. */
  groups: z.array(z.string()),
  /** Group-restricted models the user may use: the union of their groups' allowlists. */
  groupModels: z.array(z.string()),
  /** Every model some group names: usable only through a group that names it (or the user's own allowlist). */
  restrictedModels: z.array(z.string()),
  requestsPerMinute: z.number().int().min(0),
  dailyTokenBudget: z.number().int().min(0),
  maxConcurrentStreams: z.number().int().min(0),
  /** `[]` = no restriction. */
  allowedModels: z.array(z.string()),
  /** Attachment storage in MiB; `0` = no quota. */
  storageQuotaMb: z.number().int().min(0),
});
export type EffectiveLimits = z.infer<typeof effectiveLimits>;

/** `GET/PUT /api/admin/users/:userId/limits`: what is stored, the deployment's defaults, and what applies. */
export const userLimitsResponse = userLimitsView.extend({
  defaults: limitValues.extend({
    requestsPerMinute: z.number().int(),
    dailyTokenBudget: z.number().int(),
    maxConcurrentStreams: z.number().int(),
    storageQuotaMb: z.number().int(),
  }),
  effective: effectiveLimits,
  /** Attachment bytes the user stores now. */
  storageUsedBytes: z.number().int().min(0),
});
export type UserLimitsResponse = z.infer<typeof userLimitsResponse>;

/**
 * `GET/PUT /api/admin/api-keys/:keyId/limits`: GET answers the budget that applies; PUT what was
 * stored (`null` = the default applies) and when.
 */
export const apiKeyLimitsResponse = z.object({
  apiKeyId: z.string(),
  dailyTokenBudget: z.number().int().nullable(),
  updatedAt: z.iso.datetime({ offset: true }).optional(),
  defaults: z.object({ dailyTokenBudget: z.number().int() }),
});
export type ApiKeyLimitsResponse = z.infer<typeof apiKeyLimitsResponse>;
