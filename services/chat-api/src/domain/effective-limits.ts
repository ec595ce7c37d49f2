import type { EffectiveLimits, UserGrants, UserLimitsView } from '@corral/contracts';

export interface LimitValues {
  requestsPerMinute: number;
  dailyTokenBudget: number;
  maxConcurrentStreams: number;
}

type LimitName = keyof LimitValues;

/** What the rule decides: the three limits and the user's group access (their own allowlist is kept apart). */
export type CombinedLimits = LimitValues &
  Pick<EffectiveLimits, 'groups' | 'groupModels' | 'restrictedModels'>;
const LIMITS: LimitName[] = ['requestsPerMinute', 'dailyTokenBudget', 'maxConcurrentStreams'];

/** The more generous of two limits, where 0 means unlimited. */
const moreGenerous = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : Math.max(a, b));

/**
 * The one rule that combines a user's limits (docs/operations.md, "Groups"): for each limit, the
 * user's own value where an admin set one; else the most generous value among the user's groups
 * that set it (0 = unlimited beats any number); else the deployment default. The user's groups'
 * model allowlists are unioned into `groupModels` (the user's own allowlist stays apart).
 */
export function combineLimits(
  own: Pick<UserLimitsView, LimitName>,
  grants: UserGrants,
  defaults: LimitValues,
): CombinedLimits {
  const values = {} as LimitValues;
  for (const name of LIMITS) {
    const fromGroups = grants.groups
      .map((group) => group[name])
      .filter((value): value is number => value !== null);
    values[name] =
      own[name] ?? (fromGroups.length > 0 ? fromGroups.reduce(moreGenerous) : undefined) ?? defaults[name];
  }
  return {
    ...values,
    groups: grants.groups.map((group) => group.name),
    groupModels: [...new Set(grants.groups.flatMap((group) => group.allowedModels))],
    restrictedModels: grants.restrictedModels,
  };
}
