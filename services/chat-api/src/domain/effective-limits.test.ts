import type { GroupGrant, UserLimitsView } from '@corral/contracts';
import { describe, expect, it } from 'vitest';
import { combineLimits } from './effective-limits.js';

const DEFAULTS = { requestsPerMinute: 60, dailyTokenBudget: 1000, maxConcurrentStreams: 2 };
type OwnLimits = Pick<UserLimitsView, 'requestsPerMinute' | 'dailyTokenBudget' | 'maxConcurrentStreams'>;
const own = (values: Partial<OwnLimits> = {}): OwnLimits => ({
  requestsPerMinute: null,
  dailyTokenBudget: null,
  maxConcurrentStreams: null,
  ...values,
});
const group = (name: string, values: Partial<GroupGrant> = {}): GroupGrant => ({
  id: name,
  name,
  allowedModels: [],
  requestsPerMinute: null,
  dailyTokenBudget: null,
  maxConcurrentStreams: null,
  ...values,
});
const grants = (...groups: GroupGrant[]) => ({
  userId: 'u1',
  groups,
  restrictedModels: [...new Set(groups.flatMap((g) => g.allowedModels))],
});

describe('combineLimits', () => {
  it('is the deployment default without groups or own values', () => {
    expect(combineLimits(own(), grants(), DEFAULTS)).toEqual({
      ...DEFAULTS,
      groups: [],
      groupModels: [],
      restrictedModels: [],
    });
  });

  it('takes the most generous group value, 0 (unlimited) above any number, and keeps the default where no group sets one', () => {
    const limits = combineLimits(
      own(),
      grants(
        group('a', { requestsPerMinute: 10, dailyTokenBudget: 0 }),
        group('b', { requestsPerMinute: 30, dailyTokenBudget: 5000 }),
      ),
      DEFAULTS,
    );
    expect(limits).toMatchObject({ requestsPerMinute: 30, dailyTokenBudget: 0, maxConcurrentStreams: 2 });
    expect(limits.groups).toEqual(['a', 'b']);
  });

  it('lets a group lower the default: the group value replaces it', () => {
    expect(
      combineLimits(own(), grants(group('a', { requestsPerMinute: 5 })), DEFAULTS).requestsPerMinute,
    ).toBe(5);
  });

  it('lets the user’s own value win over every group', () => {
    const limits = combineLimits(
      own({ requestsPerMinute: 3, maxConcurrentStreams: 0 }),
      grants(group('a', { requestsPerMinute: 100, maxConcurrentStreams: 9 })),
      DEFAULTS,
    );
    expect(limits).toMatchObject({ requestsPerMinute: 3, maxConcurrentStreams: 0 });
  });

  it('unions the groups’ models', () => {
    const limits = combineLimits(
      own(),
      {
        ...grants(group('a', { allowedModels: ['m1', 'm2'] }), group('b', { allowedModels: ['m2', 'm3'] })),
        restrictedModels: ['m1', 'm2', 'm3', 'm4'],
      },
      DEFAULTS,
    );
    expect(limits.groupModels).toEqual(['m1', 'm2', 'm3']);
    expect(limits.restrictedModels).toEqual(['m1', 'm2', 'm3', 'm4']);
  });
});
