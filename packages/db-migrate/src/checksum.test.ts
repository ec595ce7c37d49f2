import { describe, expect, it } from 'vitest';

import { migrationChecksum, scriptMatchesChecksum } from './checksum.js';

describe('migrationChecksum', () => {
  it("matches prisma-engines' own test vector (zero-padded SHA-256 hex)", () => {
    expect(migrationChecksum('hello')).toBe(
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    expect(migrationChecksum('abcd')).toHaveLength(64);
  });
});

describe('scriptMatchesChecksum', () => {
  it('ignores LF versus CRLF line endings, as Prisma does', () => {
    const scripts = ['ab\ncd\nef\ngh\rab\n', 'ab\r\ncd\r\nef\r\ngh\rab\r\n'];
    for (const script of scripts) {
      for (const other of scripts) expect(scriptMatchesChecksum(script, migrationChecksum(other))).toBe(true);
    }
  });

  it('detects a real change', () => {
    expect(scriptMatchesChecksum('abc', migrationChecksum('abcd'))).toBe(false);
    expect(scriptMatchesChecksum('abc\n', migrationChecksum('abc'))).toBe(false);
  });

  it('accepts the unpadded checksums very old Prisma versions wrote', () => {
    // This digest has bytes below 0x10, which the old format wrote as a single hex digit.
    const script = 'SELECT 1;';
    const padded = migrationChecksum(script);
    const unpadded = padded
      .match(/../g)!
      .map((byte) => byte.replace(/^0/, ''))
      .join('');
    expect(unpadded.length).toBeLessThan(64);
    expect(scriptMatchesChecksum(script, unpadded)).toBe(true);
  });
});
