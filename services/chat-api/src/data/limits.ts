import type { ApiKeyLimitsPatch, EffectiveLimits, UserLimitsPatch, UserLimitsView } from '@corral/contracts';
import { TtlCache } from '@corral/service-kit';
import { combineLimits } from '../domain/effective-limits.js';
import type { GroupGrants } from '../domain/group-grants.js';
import type { Database, PrismaClient } from './db.js';

/** The limits that apply to one user (their own values, their groups', the deployment's): the contract's view. */
export type { EffectiveLimits };

export interface LimitDefaults {
  requestsPerMinute: number;
  dailyTokenBudget: number;
  maxConcurrentStreams: number;
  dailyTokenBudgetPerKey: number;
  storageQuotaMb: number;
}

/** Users and keys whose limits are kept in memory, oldest evicted first. */
const MAX_CACHED = 10_000;

/**
 * Admin-set limits per user (`user_limits`) and per API key (`api_key_limits`), read through a
 * cache of USER_LIMITS_CACHE_MS so the per-request checks cost no query; a change made here is
 * seen at once on this replica and within the cache time on the others.
 */
export class LimitsStore {
  private readonly users: TtlCache<UserLimitsView>;
  private readonly keys: TtlCache<number | null>;
  private readonly prisma: PrismaClient;

  constructor(
    db: Pick<Database, 'prisma'>,
    private readonly defaults: LimitDefaults,
    private readonly cacheMs: number,
    /** The user's groups and what they carry, from auth. */
    private readonly grants: Pick<GroupGrants, 'of'>,
  ) {
    this.prisma = db.prisma;
    this.users = new TtlCache(MAX_CACHED);
    this.keys = new TtlCache(MAX_CACHED);
  }

  /** What an admin stored for the user; every field null when nothing was set. */
  stored(userId: string): Promise<UserLimitsView> {
    return this.users.getOrLoad(userId, this.cacheMs, async () => {
      const row = await this.prisma.userLimits.findUnique({ where: { userId } });
      return toView(userId, row);
    });
  }

  /** What applies to the user: their own values, their groups', the defaults (see combineLimits). */
  async effective(userId: string): Promise<EffectiveLimits> {
    const [stored, grants] = await Promise.all([this.stored(userId), this.grants.of(userId)]);
    return {
      ...combineLimits(stored, grants, this.defaults),
      allowedModels: stored.allowedModels ?? [],
      storageQuotaMb: stored.storageQuotaMb ?? this.defaults.storageQuotaMb,
    };
  }

  /** Fields present in `patch` are replaced (null = back to the default); absent ones are kept. */
  async setUserLimits(userId: string, patch: UserLimitsPatch, adminId: string): Promise<UserLimitsView> {
    const data = {
      ...(patch.requestsPerMinute !== undefined ? { requestsPerMinute: patch.requestsPerMinute } : {}),
      ...(patch.dailyTokenBudget !== undefined ? { dailyTokenBudget: patch.dailyTokenBudget } : {}),
      ...(patch.maxConcurrentStreams !== undefined
        ? { maxConcurrentStreams: patch.maxConcurrentStreams }
        : {}),
      ...(patch.allowedModels !== undefined ? { allowedModels: patch.allowedModels ?? [] } : {}),
      ...(patch.storageQuotaMb !== undefined ? { storageQuotaMb: patch.storageQuotaMb } : {}),
      updatedBy: adminId,
      updatedAt: new Date(),
    };
    const row = await this.prisma.userLimits.upsert({
      where: { userId },
      create: { userId, ...data },
      update: data,
    });
    this.users.delete(userId);
    return toView(userId, row);
  }

  /** The key's daily budget: an admin's override, else DAILY_TOKEN_BUDGET_PER_KEY (0 = none). */
  async apiKeyBudget(apiKeyId: string): Promise<number> {
    const override = await this.keys.getOrLoad(apiKeyId, this.cacheMs, async () => {
      const row = await this.prisma.apiKeyLimits.findUnique({ where: { apiKeyId } });
      return row?.dailyTokenBudget ?? null;
    });
    return override ?? this.defaults.dailyTokenBudgetPerKey;
  }

  async setApiKeyLimits(apiKeyId: string, patch: ApiKeyLimitsPatch, adminId: string) {
    const data = { dailyTokenBudget: patch.dailyTokenBudget, updatedBy: adminId, updatedAt: new Date() };
    const row = await this.prisma.apiKeyLimits.upsert({
      where: { apiKeyId },
      create: { apiKeyId, ...data },
      update: data,
    });
    this.keys.delete(apiKeyId);
    return { apiKeyId, dailyTokenBudget: row.dailyTokenBudget, updatedAt: row.updatedAt.toISOString() };
  }
}

function toView(
  userId: string,
  row: {
    requestsPerMinute: number | null;
    dailyTokenBudget: number | null;
    maxConcurrentStreams: number | null;
    allowedModels: string[];
    storageQuotaMb: number | null;
    updatedBy: string | null;
    updatedAt: Date;
  } | null,
): UserLimitsView {
  return {
    userId,
    requestsPerMinute: row?.requestsPerMinute ?? null,
    dailyTokenBudget: row?.dailyTokenBudget ?? null,
    maxConcurrentStreams: row?.maxConcurrentStreams ?? null,
    allowedModels: row && row.allowedModels.length > 0 ? row.allowedModels : null,
    storageQuotaMb: row?.storageQuotaMb ?? null,
    updatedBy: row?.updatedBy ?? null,
    updatedAt: row ? row.updatedAt.toISOString() : null,
  };
}
