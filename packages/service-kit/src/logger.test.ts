import { describe, expect, it } from 'vitest';
import { redact } from './logger.js';

describe('redact', () => {
  it('masks secret-named keys at any depth', () => {
    expect(
      redact({
        user: 'ann',
        password: 'p',
        nested: { apiKey: 'k', refresh_token: 't', list: [{ secret: 's' }] },
      }),
    ).toEqual({
      user: 'ann',
      password: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', refresh_token: '[REDACTED]', list: [{ secret: '[REDACTED]' }] },
    });
  });

  it('masks API keys, bearer tokens, JWTs, key=value secrets and URL passwords inside strings', () => {
    const text = redact(
      'key sk-corral-AbC_123 auth Bearer abc.def jwt eyJhbGciOi.eyJzdWIiOi.sig password=hunter2 db postgres://corral:pw123@db:5432/corral',
    );
    expect(text).toBe(
      'key [REDACTED] auth [REDACTED] jwt [REDACTED] password=[REDACTED] db postgres://corral:[REDACTED]@db:5432/corral',
    );
  });

  it('keeps an error’s name and stack but masks secrets in them', () => {
    const error = new Error('login failed for token=abc123');
    const result = redact(error) as { name: string; message: string; stack: string };
    expect(result.name).toBe('Error');
    expect(result.message).toBe('login failed for token=[REDACTED]');
    expect(result.stack).not.toContain('abc123');
  });
});
