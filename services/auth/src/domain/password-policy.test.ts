import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.js';

describe('passwordProblem', () => {
  it('accepts a long, uncommon password', () => {
    expect(passwordProblem('velvet-harbor-tangerine-42')).toBeUndefined();
  });

  it('refuses short, repetitive and common passwords', () => {
    expect(passwordProblem('short-pw-1')).toMatch(/at least 12/);
    expect(passwordProblem('aaaaaaaaaaaa')).toMatch(/different characters/);
    expect(passwordProblem('qwertyuiop123')).toMatch(/common/);
    expect(passwordProblem('1q2w3e4r5t6y')).toMatch(/common/);
  });
});
