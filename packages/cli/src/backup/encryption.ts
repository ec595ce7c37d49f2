// Streaming authenticated encryption for backups: AES-256-GCM over fixed-size chunks.
//
// File layout (all integers big-endian):
//   header  = "CORRALBK" | version (1) | kdf id (1) | salt (16) | nonce prefix (8) | chunk size (4)
//   chunk i = ciphertext (chunk size bytes; the last one 0..chunk size) | GCM tag (16)
// Key      = scrypt(BACKUP_ENCRYPTION_KEY, salt, 32 bytes, N=2^15 r=8 p=1); a fresh salt per file.
// Nonce i  = nonce prefix | i (4 bytes); AAD i = header | final flag (1 byte, 1 on the last chunk).
// The header is in every chunk's AAD, the index in its nonce and "last" in its AAD, so a changed
// byte anywhere, reordered/dropped chunks, a cut at a chunk boundary or appended bytes all fail
// authentication. Plaintext leaves the decryptor only after its chunk's tag has been checked.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { CliError, errorMessage } from '../errors.js';

export const MAGIC = Buffer.from('CORRALBK');
const VERSION = 1;
const KDF_SCRYPT = 1;
const HEADER_LENGTH = MAGIC.length + 1 + 1 + 16 + 8 + 4;
const TAG_LENGTH = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
/** Shorter keys are refused: the KDF slows guessing down, it cannot make a short key strong. */
export const MIN_KEY_LENGTH = 16;

/** Described in the manifest and in docs/operations.md. */
export const ENCRYPTION_SCHEME = {
  cipher: 'aes-256-gcm',
  chunkBytes: DEFAULT_CHUNK_SIZE,
  kdf: `scrypt N=${SCRYPT.N} r=${SCRYPT.r} p=${SCRYPT.p}, 16-byte random salt per file`,
};

export class BackupDecryptError extends CliError {}

/** BACKUP_ENCRYPTION_KEY, else the file BACKUP_ENCRYPTION_KEY_FILE names; undefined when neither. */
export function encryptionKeyFromEnv(env = process.env): string | undefined {
  let key = env.BACKUP_ENCRYPTION_KEY;
  if (!key && env.BACKUP_ENCRYPTION_KEY_FILE) {
    try {
      key = readFileSync(env.BACKUP_ENCRYPTION_KEY_FILE, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(
        `BACKUP_ENCRYPTION_KEY_FILE: cannot read ${env.BACKUP_ENCRYPTION_KEY_FILE} (${errorMessage(error)})`,
      );
    }
  }
  if (!key) return undefined;
  if (key.length < MIN_KEY_LENGTH) {
    throw new CliError(
      `BACKUP_ENCRYPTION_KEY is too short (${key.length} characters, at least ${MIN_KEY_LENGTH}); make one with: openssl rand -base64 32`,
      2,
    );
  }
  return key;
}

function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function nonceFor(prefix: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

const aadFor = (header: Buffer, final: boolean): Buffer =>
  Buffer.concat([header, Buffer.from([final ? 1 : 0])]);

/** True when the file starts with the encrypted-backup header. */
export async function isEncryptedFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, MAGIC.length, 0);
    return bytesRead === MAGIC.length && head.equals(MAGIC);
  } finally {
    await handle.close();
  }
}

/** Encrypts what is written to it; the output is the file layout above. */
export async function createEncryptStream(
  passphrase: string,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Promise<Transform> {
  const salt = randomBytes(16);
  const prefix = randomBytes(8);
  const header = Buffer.alloc(HEADER_LENGTH);
  let offset = MAGIC.copy(header, 0);
  offset = header.writeUInt8(VERSION, offset);
  offset = header.writeUInt8(KDF_SCRYPT, offset);
  offset += salt.copy(header, offset);
  offset += prefix.copy(header, offset);
  header.writeUInt32BE(chunkSize, offset);
  const key = await deriveKey(passphrase, salt);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let index = 0;

  const seal = (plain: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', key, nonceFor(prefix, index++));
    cipher.setAAD(aadFor(header, final));
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };

  return new Transform({
    construct(callback) {
      this.push(header);
      callback();
    },
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      pending.push(data);
      pendingLength += data.length;
      // Strictly more than one chunk held back, so the last chunk (sealed as final) is never empty-handed.
      if (pendingLength > chunkSize) {
        let buffer = Buffer.concat(pending);
        while (buffer.length > chunkSize) {
          this.push(seal(buffer.subarray(0, chunkSize), false));
          buffer = buffer.subarray(chunkSize);
        }
        pending = [buffer];
        pendingLength = buffer.length;
      }
      callback();
    },
    flush(callback: TransformCallback) {
      this.push(seal(Buffer.concat(pending), true));
      callback();
    },
  });
}

/** Decrypts the file layout above; fails (and emits nothing more) at the first chunk that does not authenticate. */
export function createDecryptStream(passphrase: string): Transform {
  let header: Buffer | undefined;
  let key: Buffer | undefined;
  let prefix = Buffer.alloc(0);
  let chunkSize = 0;
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;

  const open = (plainIndex: number, sealed: Buffer, final: boolean): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', key!, nonceFor(prefix, plainIndex));
    decipher.setAAD(aadFor(header!, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH)),
        decipher.final(),
      ]);
    } catch {
      throw new BackupDecryptError(
        plainIndex === 0
          ? 'the encrypted backup does not authenticate: wrong BACKUP_ENCRYPTION_KEY, or the file was changed'
          : `the encrypted backup was changed or cut short (chunk ${plainIndex} does not authenticate); refusing it`,
      );
    }
  };

  const readHeader = async (): Promise<void> => {
    const candidate = pending.subarray(0, HEADER_LENGTH);
    if (!candidate.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new BackupDecryptError('not an encrypted Corral backup (no CORRALBK header)');
    }
    const version = candidate.readUInt8(MAGIC.length);
    const kdf = candidate.readUInt8(MAGIC.length + 1);
    if (version !== VERSION || kdf !== KDF_SCRYPT) {
      throw new BackupDecryptError(`unsupported encrypted backup format (version ${version}, kdf ${kdf})`);
    }
    const salt = candidate.subarray(MAGIC.length + 2, MAGIC.length + 18);
    prefix = Buffer.from(candidate.subarray(MAGIC.length + 18, MAGIC.length + 26));
    chunkSize = candidate.readUInt32BE(MAGIC.length + 26);
    if (chunkSize === 0 || chunkSize > 64 * 1024 * 1024) {
      throw new BackupDecryptError(`encrypted backup header names an impossible chunk size (${chunkSize})`);
    }
    header = Buffer.from(candidate);
    key = await deriveKey(passphrase, salt);
    pending = pending.subarray(HEADER_LENGTH);
  };

  return new Transform({
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      const drain = async (): Promise<void> => {
        if (!header) {
          if (pending.length < HEADER_LENGTH) return;
          await readHeader();
        }
        const sealedSize = chunkSize + TAG_LENGTH;
        // A full chunk is known not to be the last only once a byte after it has arrived.
        while (pending.length > sealedSize) {
          this.push(open(index++, pending.subarray(0, sealedSize), false));
          pending = pending.subarray(sealedSize);
        }
      };
      drain().then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      try {
        if (!header) throw new BackupDecryptError('the encrypted backup is cut short (incomplete header)');
        if (pending.length < TAG_LENGTH) {
          throw new BackupDecryptError('the encrypted backup is cut short (last chunk missing)');
        }
        this.push(open(index++, pending, true));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
