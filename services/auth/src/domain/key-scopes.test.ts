import { AppError } from '@corral/service-kit';
import { describe, expect, it } from 'vitest';
import { narrowGrant, sessionGrant } from './key-scopes.js';

const hour = (n: number) => new Date(Date.UTC(2030, 0, 1, n));
const parent = { scopes: ['inference', 'keys'], models: ['a', 'b'], expiresAt: hour(10) };

const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error instanceof AppError ? error.code : 'other';
  }
  return 'accepted';
};

describe('narrowGrant', () => {
  it('inherits what is left out', () => {
    expect(narrowGrant(parent, {})).toEqual(parent);
  });

  it('accepts a narrower grant', () => {
    expect(narrowGrant(parent, { scopes: ['inference'], models: ['a'], expiresAt: hour(5) })).toEqual({
      scopes: ['inference'],
      models: ['a'],
      expiresAt: hour(5),
    });
  });

  it('refuses anything wider: a scope, a model, every model, a later or no expiry', () => {
    expect(refusal(() => narrowGrant(parent, { scopes: ['inference', 'admin'] }))).toBe('forbidden');
    expect(refusal(() => narrowGrant(parent, { models: ['a', 'c'] }))).toBe('forbidden');
    expect(refusal(() => narrowGrant(parent, { models: null }))).toBe('forbidden');
    expect(refusal(() => narrowGrant(parent, { expiresAt: hour(11) }))).toBe('forbidden');
    expect(refusal(() => narrowGrant(parent, { expiresAt: null }))).toBe('forbidden');
  });

  it('lets an unrestricted parent create a restricted child', () => {
    const open = { scopes: ['inference', 'keys'], models: null, expiresAt: null };
    expect(narrowGrant(open, { models: ['a'], expiresAt: hour(1) })).toMatchObject({ models: ['a'] });
  });
});

describe('sessionGrant', () => {
  it('gives inference by default', () => {
    expect(sessionGrant({}, { byAdmin: false, ownerIsAdmin: false }).scopes).toEqual(['inference']);
  });

  it('keeps wider scopes for an administrator to grant, and admin for admins only', () => {
    expect(refusal(() => sessionGrant({ scopes: ['keys'] }, { byAdmin: false, ownerIsAdmin: true }))).toBe(
      'forbidden',
    );
    expect(sessionGrant({ scopes: ['keys'] }, { byAdmin: true, ownerIsAdmin: false }).scopes).toEqual([
      'keys',
    ]);
    expect(refusal(() => sessionGrant({ scopes: ['admin'] }, { byAdmin: true, ownerIsAdmin: false }))).toBe(
      'validation_failed',
    );
  });
});
