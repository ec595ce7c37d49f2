import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDecryptStream, createEncryptStream, encryptionKeyFromEnv, MAGIC } from './encryption.js';

const KEY = 'correct horse battery staple 42';
const CHUNK = 32;

async function collect(source: Buffer, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  // Split the input into odd-sized pieces so chunk boundaries never line up with writes.
  const pieces = [];
  for (let offset = 0; offset < source.length; offset += 7) pieces.push(source.subarray(offset, offset + 7));
  await pipeline([Readable.from(pieces), ...stages, sink]);
  return Buffer.concat(parts);
}

const encrypt = async (plain: Buffer) => collect(plain, await createEncryptStream(KEY, CHUNK));
const decrypt = (sealed: Buffer, key = KEY) => collect(sealed, createDecryptStream(key));

describe('backup encryption', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 1000])('round-trips %i bytes', async (length) => {
    const plain = randomBytes(length);
    const sealed = await encrypt(plain);
    expect(sealed.subarray(0, MAGIC.length).equals(MAGIC)).toBe(true);
    expect(sealed.includes(plain.subarray(0, 16)) && length >= 16).toBe(false);
    expect((await decrypt(sealed)).equals(plain)).toBe(true);
  });

  it('refuses a wrong key', async () => {
    const sealed = await encrypt(Buffer.from('PGDMP secret data '.repeat(10)));
    await expect(decrypt(sealed, 'another key entirely, 32 chars')).rejects.toThrow(
      /wrong BACKUP_ENCRYPTION_KEY/,
    );
  });

  it('refuses a file with a byte changed in the header, any chunk or any tag', async () => {
    const sealed = await encrypt(randomBytes(5 * CHUNK + 5));
    const sealedChunk = CHUNK + 16;
    // magic, version, kdf, salt, nonce prefix, chunk size; first/middle/last chunk body and tag
    const offsets = [
      0,
      8,
      9,
      12,
      28,
      36,
      38,
      38 + CHUNK + 3,
      38 + 2 * sealedChunk + 5,
      38 + 3 * sealedChunk - 1,
    ];
    offsets.push(sealed.length - 20, sealed.length - 1);
    for (const offset of offsets) {
      const tampered = Buffer.from(sealed);
      tampered[offset] = tampered[offset]! ^ 0x01;
      await expect(decrypt(tampered), `byte ${offset}`).rejects.toThrow();
    }
  });

  it('refuses a file cut short at a chunk boundary, or with bytes appended', async () => {
    const sealed = await encrypt(randomBytes(4 * CHUNK + 3));
    const header = 38;
    const cut = sealed.subarray(0, header + 2 * (CHUNK + 16));
    await expect(decrypt(cut)).rejects.toThrow(/changed or cut short/);
    await expect(decrypt(Buffer.concat([sealed, Buffer.from('x')]))).rejects.toThrow(/changed or cut short/);
  });

  it('reads the key from BACKUP_ENCRYPTION_KEY and refuses a short one', () => {
    expect(encryptionKeyFromEnv({ BACKUP_ENCRYPTION_KEY: KEY })).toBe(KEY);
    expect(encryptionKeyFromEnv({})).toBeUndefined();
    expect(() => encryptionKeyFromEnv({ BACKUP_ENCRYPTION_KEY: 'short' })).toThrow(/too short/);
  });
});
