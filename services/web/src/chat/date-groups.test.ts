import { describe, expect, it } from 'vitest';
import { dateGroupLabel, groupByDate } from './date-groups.js';

// Local times: the groups are calendar days where the user is.
const now = new Date(2026, 11, 7, 0, 10);
const at = (month: number, day: number, hour = 12, minute = 0) => new Date(2026, month, day, hour, minute);

describe('dateGroupLabel', () => {
  it('names today, yesterday (by calendar day, not 24 hours), the last 7 and 30 days, then the month', () => {
    expect(dateGroupLabel(at(11, 7, 0, 1), now)).toBe('Today');
    expect(dateGroupLabel(at(11, 6, 23, 50), now)).toBe('Yesterday');
    expect(dateGroupLabel(at(11, 6, 0, 0), now)).toBe('Yesterday');
    expect(dateGroupLabel(at(11, 5, 23, 59), now)).toBe('Previous 7 days');
    expect(dateGroupLabel(at(10, 30), now)).toBe('Previous 7 days');
    expect(dateGroupLabel(at(10, 29), now)).toBe('Previous 30 days');
    expect(dateGroupLabel(at(10, 7), now)).toBe('Previous 30 days');
    expect(dateGroupLabel(at(10, 6), now, 'en-US')).toBe('November 2026');
    expect(dateGroupLabel(new Date(2025, 0, 15), now, 'en-US')).toBe('January 2025');
  });

  it('counts a time ahead of the clock as today', () => {
    expect(dateGroupLabel(at(11, 8), now)).toBe('Today');
  });
});

describe('groupByDate', () => {
  it('keeps the newest-first order in consecutive groups', () => {
    const items = [at(11, 7, 0, 5), at(11, 6), at(11, 2), at(10, 20), at(9, 1), at(8, 3)].map((d, i) => ({
      id: String(i),
      updatedAt: d.toISOString(),
    }));
    expect(groupByDate(items, now, 'en-US').map((g) => [g.label, g.items.map((c) => c.id)])).toEqual([
      ['Today', ['0']],
      ['Yesterday', ['1']],
      ['Previous 7 days', ['2']],
      ['Previous 30 days', ['3']],
      ['October 2026', ['4']],
      ['September 2026', ['5']],
    ]);
  });
});
