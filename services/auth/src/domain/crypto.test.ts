import { describe, expect, it } from 'vitest';
import { decryptSecret, deriveKeyEncryptionKey, encryptSecret } from './crypto.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('signing-key encryption at rest', () => {
  const kek = deriveKeyEncryptionKey('a-long-key-encryption-secret-for-tests');

  it('round-trips, and never stores the plaintext', () => {
    const sealed = encryptSecret('-----BEGIN PRIVATE KEY-----abc', kek, 'kid-1');
    expect(sealed).not.toContain('PRIVATE');
    expect(decryptSecret(sealed, kek, 'kid-1')).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('refuses another secret, another kid, or a flipped bit', () => {
    const sealed = encryptSecret('secret material', kek, 'kid-1');
    expect(() =>
      decryptSecret(sealed, deriveKeyEncryptionKey('some-other-secret-entirely'), 'kid-1'),
    ).toThrow();
    expect(() => decryptSecret(sealed, kek, 'kid-2')).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    expect(() =>
      decryptSecret([...parts.slice(0, 3), body.toString('base64url')].join('.'), kek, 'kid-1'),
    ).toThrow();
  });
});

describe('password hashing', () => {
  it('salts per hash, verifies the right password only, and notices weaker parameters', async () => {
    const [a, b] = await Promise.all([
      hashPassword('hunter2-hunter2', 10),
      hashPassword('hunter2-hunter2', 10),
    ]);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(await verifyPassword('hunter2-hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter3-hunter3', a)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
    expect(needsRehash(a, 10)).toBe(false);
    expect(needsRehash(a, 15)).toBe(true);
  });
});
