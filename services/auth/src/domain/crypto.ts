import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** SHA-256, hex: for high-entropy secrets (API keys, refresh tokens) a fast hash is the right tool. */
export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Constant-time string comparison (compares digests so lengths may differ). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The refresh token that replaces `token`: derived (HMAC under a key from SIGNING_KEY_SECRET), not
 * random, so two tabs exchanging one token at once both get the same successor.
 */
export function successorToken(token: string, secret: string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'corral-auth', 'refresh-token successor v1', 32));
  return createHmac('sha256', key).update(token, 'utf8').digest('base64url');
}

const FORMAT = 'v1';

/** The 256-bit AES key derived from SIGNING_KEY_SECRET (HKDF, so any long passphrase works). */
export function deriveKeyEncryptionKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'corral-auth', 'signing-key-encryption v1', 32));
}

/** AES-256-GCM; `context` (the kid) is bound as associated data so ciphertexts cannot be swapped between rows. */
export function encryptSecret(plaintext: string, kek: Buffer, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function decryptSecret(sealed: string, kek: Buffer, context: string): string {
  const [format, iv, tag, ciphertext] = sealed.split('.');
  if (format !== FORMAT || !iv || !tag || ciphertext === undefined) {
    throw new Error('unrecognised encrypted key format');
  }
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}
