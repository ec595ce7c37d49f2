import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { msFrom } from './start.js';

describe('CORRAL_START_TIMEOUT_MS / CORRAL_STOP_TIMEOUT_MS', () => {
  it('take milliseconds, including the documented defaults and values above 65535', () => {
    expect(msFrom(undefined, 120_000, 'CORRAL_START_TIMEOUT_MS')).toBe(120_000);
    expect(msFrom('120000', 1, 'CORRAL_START_TIMEOUT_MS')).toBe(120_000);
    expect(msFrom('600000', 1, 'CORRAL_STOP_TIMEOUT_MS')).toBe(600_000);
  });

  it('refuse junk, zero and negative values by name, as a usage error', () => {
    for (const bad of ['0', '-5', '12s', '1e5', 'abc', '99999999999']) {
      let caught: unknown;
      try {
        msFrom(bad, 1, 'CORRAL_STOP_TIMEOUT_MS');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CliError);
      expect((caught as CliError).exitCode).toBe(2);
      expect((caught as CliError).message).toContain('CORRAL_STOP_TIMEOUT_MS must be a time in milliseconds');
    }
  });
});
